//! `stampvm genesis`: writes a chain's genesis file, byte for byte what the chain is created with,
//! and prints the genesis block ID every node of the chain derives from it. A genesis written
//! with `echo` gains a newline, which is part of the bytes and so makes another chain; this
//! command writes exactly the data given, and `--inspect` says what an existing file makes.

use anyhow::{bail, Context};
use stampvm::chain::genesis::{parse_genesis, ChainFormat, Genesis, DEFAULT_MAX_BATCH};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct GenesisArgs {
    /// The chain's genesis data (at most 32 bytes). Equal data and format give an equal genesis
    /// block (the chain ID still comes from the P-chain transaction that creates the chain).
    #[arg(long, required_unless_present = "inspect")]
    data: Option<String>,
    /// A batched chain (blocks of up to --max-batch payloads under a Merkle root) rather than a
    /// TimestampVM chain (one payload per block, byte-compatible with the Go TimestampVM).
    #[arg(long)]
    batched: bool,
    /// The most payloads one block of a batched chain holds, 1 to 65536.
    #[arg(long, requires = "batched", value_name = "N")]
    max_batch: Option<u64>,
    /// Where to write the genesis bytes (no trailing newline). Refuses to replace an existing file
    /// unless --force.
    #[arg(long, required_unless_present = "inspect", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long)]
    force: bool,
    /// Read an existing genesis file instead, and print its format and genesis block ID.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["data", "batched", "out", "force"])]
    inspect: Option<PathBuf>,
}

pub fn run(args: GenesisArgs) -> anyhow::Result<std::process::ExitCode> {
    if let Some(path) = &args.inspect {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading genesis {}", path.display()))?;
        let genesis =
            parse_genesis(&bytes).with_context(|| format!("genesis {}", path.display()))?;
        describe(&genesis, bytes.len(), &path.display().to_string());
        if bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
            eprintln!(
                "note: the file ends with a whitespace byte ({:?}), which is part of the genesis: without it the chain would be another one (`echo` adds a newline; `printf` or `stampvm genesis` does not)",
                char::from(*bytes.last().unwrap_or(&b' '))
            );
        }
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let (Some(data), Some(out)) = (args.data, args.out) else {
        bail!("--data and --out are needed (or --inspect FILE)");
    };
    let bytes = match args.batched {
        false => data.into_bytes(),
        true => serde_json::to_vec(&serde_json::json!({
            "format": "batched",
            "data": data,
            "maxBatch": args.max_batch.unwrap_or(DEFAULT_MAX_BATCH as u64),
        }))?,
    };
    // The same check the plugin makes at Initialize, before anything is written.
    let genesis = parse_genesis(&bytes).context("the genesis this would write")?;
    // Raw data that is itself a JSON format declaration would not be the data asked for: the
    // plugin reads it as a declaration (its `data` becomes the genesis data), so the chain would
    // not be the TimestampVM chain of these bytes that a Go TimestampVM node makes of them.
    if !args.batched && genesis.data != bytes {
        bail!(
            "--data {:?} is a JSON object with a \"format\" key, which stampvm reads as a format declaration, not as raw data: use --batched for a batched chain, or other data for a TimestampVM chain",
            String::from_utf8_lossy(&bytes)
        );
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    match args.force {
        true => options.create(true).truncate(true),
        false => options.create_new(true),
    };
    let mut file = options.open(&out).with_context(|| {
        format!(
            "writing {} (an existing file is kept unless --force)",
            out.display()
        )
    })?;
    std::io::Write::write_all(&mut file, &bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", out.display()))?;
    describe(&genesis, bytes.len(), &out.display().to_string());
    Ok(std::process::ExitCode::SUCCESS)
}

/// Two lines: what the file makes, then the genesis block ID alone (for scripts: `| tail -1`).
fn describe(genesis: &Genesis, len: usize, path: &str) {
    let format = match genesis.format {
        ChainFormat::Single => "TimestampVM chain (one payload per block)".to_string(),
        ChainFormat::Batched { max_batch } => {
            format!("batched chain (up to {max_batch} payloads per block)")
        }
    };
    println!("{path}: {len} bytes, a {format}; genesis block ID:");
    println!("{}", genesis.block().id());
}
