//! A proof that a payload was in an accepted block: the block (ID, height, time), the block's
//! Merkle root, the payload's leaf index among `count`, and the audit path. The path ties the
//! payload to the root with no node at hand ([`Proof::path_is_valid`]); tying the root to the
//! block takes the block itself (its bytes hash to the ID) or a node that serves it.

use super::block::{Block, Payload};
use super::id::Id;
use super::merkle::{self, Hash, Tree};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub payload: Payload,
    pub block_id: Id,
    pub height: u64,
    /// Unix seconds: the payload existed at this time.
    pub timestamp: i64,
    pub root: Hash,
    /// The payload's position in its block (its leaf index).
    pub index: u64,
    /// How many payloads the block carries.
    pub count: u64,
    /// Sibling hashes from the leaf up (RFC 9162's inclusion proof).
    pub path: Vec<Hash>,
}

impl Proof {
    /// Whether the path leads from the payload to the root (every bit matters).
    ///
    /// This proves the payload is a leaf of the tree with this root. `index` and `count` are
    /// bound only as far as they shape the path: leaf 0 of 5 also verifies as leaf 0 of 7, as
    /// in any RFC 9162 proof, where the tree size comes signed with the root. Ours comes with the
    /// root in the block (the batched header holds both), so whoever binds the root to the
    /// block also checks `count` there.
    pub fn path_is_valid(&self) -> bool {
        merkle::verify(
            &self.root,
            &self.payload,
            self.index,
            self.count,
            &self.path,
        )
    }

    /// The proof of payload `index` of `block`, straight from the block's payloads (the node
    /// reads proofs from storage instead; this is for whoever holds the whole block: tests,
    /// tools, benches). `block_id` is passed in because the caller usually has it, and a
    /// batched block's ID hashes every payload. `None` if `index` is out of range.
    ///
    /// Builds the whole tree: for many proofs of one block, build a [`Tree`] once and use
    /// [`Proof::from_tree`].
    pub fn in_block(block: &Block, block_id: Id, index: usize) -> Option<Proof> {
        let tree = Tree::new(block.payloads())?;
        Proof::from_tree(block, block_id, &tree, index)
    }

    /// As [`Proof::in_block`], with the block's tree already built (`tree` must be the tree of
    /// `block.payloads()`). The root is the block's own, so a block whose stored root disagrees
    /// with its payloads gives proofs that fail [`Proof::path_is_valid`], as they should.
    pub fn from_tree(block: &Block, block_id: Id, tree: &Tree, index: usize) -> Option<Proof> {
        Some(Proof {
            payload: *block.payloads().get(index)?,
            block_id,
            height: block.height,
            timestamp: block.timestamp,
            root: block.root(),
            index: index as u64,
            count: block.payloads().len() as u64,
            path: tree.proof(index)?,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Every payload of a batch proves (sizes 1, 2, 3 and 4096); any one flipped bit in what
    //! the path check covers (payload, root, each path hash, index, count) fails it; an inner
    //! node cannot pass for a payload. A failure names the size, the leaf and the flipped bit.

    use super::*;
    use crate::chain::merkle::{leaf_hash, node_hash};
    use sha2::{Digest, Sha256};

    /// Deterministic, distinct payloads: SHA-256 of a counter.
    fn payloads(count: usize) -> Vec<Payload> {
        (0..count as u64)
            .map(|i| Sha256::digest(i.to_be_bytes()).into())
            .collect()
    }

    fn batched_block(count: usize) -> Block {
        Block::batched(Id::EMPTY, 7, 1_700_000_000, payloads(count)).expect("non-empty batch")
    }

    /// Copies of `proof`, each with exactly one bit flipped, and what was flipped.
    fn one_bit_flips(proof: &Proof) -> Vec<(String, Proof)> {
        let mut out = Vec::new();
        for bit in 0..256 {
            let flip = |mut hash: Hash| {
                hash[bit / 8] ^= 1 << (bit % 8);
                hash
            };
            let payload = flip(proof.payload);
            out.push((
                format!("payload bit {bit}"),
                Proof {
                    payload,
                    ..proof.clone()
                },
            ));
            let root = flip(proof.root);
            out.push((
                format!("root bit {bit}"),
                Proof {
                    root,
                    ..proof.clone()
                },
            ));
            for level in 0..proof.path.len() {
                let mut path = proof.path.clone();
                path[level] = flip(path[level]);
                out.push((
                    format!("path[{level}] bit {bit}"),
                    Proof {
                        path,
                        ..proof.clone()
                    },
                ));
            }
        }
        for bit in 0..64 {
            let index = proof.index ^ (1 << bit);
            out.push((
                format!("index bit {bit}"),
                Proof {
                    index,
                    ..proof.clone()
                },
            ));
            let count = proof.count ^ (1 << bit);
            out.push((
                format!("count bit {bit}"),
                Proof {
                    count,
                    ..proof.clone()
                },
            ));
        }
        out
    }

    #[test]
    fn every_payload_of_a_batch_proves() {
        for count in [1usize, 2, 3, 4096] {
            let block = batched_block(count);
            let id = block.id();
            // One tree for all proofs: rebuilding it per leaf would make 4096 quadratic.
            let tree = Tree::new(block.payloads()).unwrap();
            for index in 0..count {
                let proof = Proof::from_tree(&block, id, &tree, index).unwrap();
                assert!(proof.path_is_valid(), "leaf {index} of {count}");
                assert_eq!(proof.payload, block.payloads()[index]);
                assert_eq!((proof.block_id, proof.height), (id, 7));
            }
            assert_eq!(Proof::from_tree(&block, id, &tree, count), None);
        }
        assert_eq!(
            Proof::in_block(&batched_block(4096), Id::EMPTY, 9)
                .unwrap()
                .path
                .len(),
            12
        );
    }

    #[test]
    fn a_single_payload_block_has_the_trivial_proof() {
        let block = Block::single(Id::EMPTY, 1, 1_700_000_000, [5; 32]);
        let proof = Proof::in_block(&block, block.id(), 0).unwrap();
        assert_eq!(proof.root, leaf_hash(&[5; 32]));
        assert_eq!((proof.index, proof.count, proof.path.len()), (0, 1, 0));
        assert!(proof.path_is_valid());
        assert_eq!(Proof::in_block(&block, block.id(), 1), None);
    }

    // For these sizes every bit of index and count matters too: a flip either leaves the
    // range or changes the path's shape. Not for every size; see
    // `count_is_bound_only_through_the_tree_shape`.
    #[test]
    fn any_flipped_bit_fails() {
        for count in [1usize, 2, 3, 4096] {
            let block = batched_block(count);
            let tree = Tree::new(block.payloads()).unwrap();
            // Every leaf of the small batches; of 4096, both ends, both sides of the middle
            // and a few inside (each leaf is some 3,700 flips).
            let sample: Vec<usize> = match count {
                4096 => vec![0, 1, 1234, 2047, 2048, 3001, 4094, 4095],
                _ => (0..count).collect(),
            };
            for index in sample {
                let proof = Proof::from_tree(&block, Id::EMPTY, &tree, index).unwrap();
                assert!(proof.path_is_valid());
                for (flipped, bad) in one_bit_flips(&proof) {
                    assert!(
                        !bad.path_is_valid(),
                        "{flipped} of leaf {index} of {count} still proves"
                    );
                }
            }
        }
    }

    // Pins the caveat documented on `path_is_valid`, so nothing comes to rely on the path
    // alone for `count`: leaf 0's path has the same shape in trees of 5 and 7 leaves.
    #[test]
    fn count_is_bound_only_through_the_tree_shape() {
        let proof = Proof::in_block(&batched_block(5), Id::EMPTY, 0).unwrap();
        assert!(Proof {
            count: 7,
            ..proof.clone()
        }
        .path_is_valid());
        assert!(!Proof { count: 9, ..proof }.path_is_valid());
    }

    /// SHA-256 of `left || right`: an inner node without the `0x01` prefix.
    fn unprefixed_node(left: &Hash, right: &Hash) -> Hash {
        Sha256::digest([&left[..], &right[..]].concat()).into()
    }

    /// Inclusion check of a power-of-two tree built with [`unprefixed_node`], from the leaf's
    /// value as that design would compute it.
    fn unprefixed_verify(root: &Hash, leaf_value: Hash, index: u64, path: &[Hash]) -> bool {
        let mut hash = leaf_value;
        for (level, sibling) in path.iter().enumerate() {
            hash = match (index >> level) & 1 {
                0 => unprefixed_node(&hash, sibling),
                _ => unprefixed_node(sibling, &hash),
            };
        }
        hash == *root
    }

    // The second-preimage forgery that RFC 6962's prefixes exist to stop: present an inner
    // node as if it were a leaf of a smaller tree with the same root, and the chain "proves"
    // a payload nobody proposed. Shown to work against two unprefixed designs, then to fail
    // against ours.
    #[test]
    fn an_inner_node_cannot_pass_as_a_payload() {
        let p = payloads(4);

        // Design A: payloads are already digests, so use them as the leaves unhashed. The node
        // over leaves 0-1 then passes as "payload" 0 of a 2-leaf tree.
        let (left, right) = (unprefixed_node(&p[0], &p[1]), unprefixed_node(&p[2], &p[3]));
        let root = unprefixed_node(&left, &right);
        assert!(unprefixed_verify(&root, left, 0, &[right]), "design A");

        // Design B: leaves hashed as SHA-256(payload), no prefix. The 64 bytes under the node
        // over 0-1, presented as one leaf, hash to that node.
        let leaves: Vec<Hash> = p.iter().map(|x| Sha256::digest(x).into()).collect();
        let (left, right) = (
            unprefixed_node(&leaves[0], &leaves[1]),
            unprefixed_node(&leaves[2], &leaves[3]),
        );
        let root = unprefixed_node(&left, &right);
        let preimage = [leaves[0], leaves[1]].concat();
        let as_leaf: Hash = Sha256::digest(&preimage).into();
        assert!(unprefixed_verify(&root, as_leaf, 0, &[right]), "design B");

        // Ours: the same two forgeries against the real tree of the same payloads.
        let block = batched_block(4);
        let tree = Tree::new(block.payloads()).unwrap();
        let (left, right) = (tree.levels()[1][0], tree.levels()[1][1]);
        assert_eq!(node_hash(&left, &right), block.root());
        let genuine = Proof::from_tree(&block, Id::EMPTY, &tree, 0).unwrap();
        let forged = Proof {
            payload: left,
            index: 0,
            count: 2,
            path: vec![right],
            ..genuine
        };
        assert!(!forged.path_is_valid(), "inner node accepted as a payload");
        // Design B's 64-byte leaf is not even a payload (32 bytes); the tree refuses it too.
        let preimage = [tree.levels()[0][0], tree.levels()[0][1]].concat();
        assert!(!merkle::verify(&block.root(), &preimage, 0, 2, &[right]));
    }
}
