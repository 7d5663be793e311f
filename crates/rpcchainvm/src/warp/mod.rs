//! Avalanche Warp messages signed by validators' BLS keys: the pure parts, with no I/O.
//!
//! A VM that wants its validators to attest to something builds an [`UnsignedMessage`], asks peers
//! for their signatures over ACP-118 ([`acp118`] frames those requests), adds the signatures up
//! ([`SignatureCollector`]) and publishes a [`SignedMessage`] that anyone holding the validator set
//! of the right P-chain height can check offline ([`verify_signed_message`]). Every byte layout
//! here is AvalancheGo's (docs/spec/warp.md §2–§4); nothing in this module talks to the node.
//!
//! # Layout
//! - `codec`: the Warp linear codec's reading rules and the [`UnsignedMessage`] (§2.1–§2.2).
//! - `payload`: the payload conventions inside an unsigned message: [`Payload`] (§2.3).
//! - `signed`: the signers bitset, [`BitSetSignature`] and [`SignedMessage`] (§2.4–§2.5).
//! - `bls`: BLS12-381 keys and signatures under the Warp ciphersuite (§2.6).
//! - `validators`: a validator set flattened into its canonical order (§4.1).
//! - `quorum`: the exact weight check and step-by-step verification of a signed message (§2.7).
//! - `aggregate`: collecting individual signatures into a signed message that meets quorum (§3.7).
//! - [`acp118`]: the signature request and response of ACP-118 and the AppError codes (§3).

pub mod acp118;
mod aggregate;
mod bls;
mod codec;
mod payload;
mod quorum;
mod signed;
mod validators;

#[cfg(test)]
mod decode_robustness;
#[cfg(test)]
mod test_vectors;

pub use aggregate::{AddOutcome, CollectError, SignatureCollector};
pub use bls::{
    BlsError, PublicKey, SecretKey, Signature, POP_DST, PUBLIC_KEY_LEN,
    PUBLIC_KEY_UNCOMPRESSED_LEN, SECRET_KEY_LEN, SIGNATURE_DST, SIGNATURE_LEN,
};
pub use codec::{CodecError, UnsignedMessage, CODEC_VERSION};
pub use payload::{AddressedCall, Payload, PAYLOAD_MAX_SIZE};
pub use quorum::{verify_signed_message, Quorum, QuorumError, Verified, VerifyError};
pub use signed::{BitSetSignature, SignedMessage, SignerSet, SignersError};
pub use validators::{CanonicalValidator, CanonicalValidatorSet, Validator, ValidatorSetError};
