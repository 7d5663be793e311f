//! The banner `stampvm dev` prints on stdout once the chain is up: where the chain is, and calls to
//! paste into a shell to use it (logs stay on stderr).

use rpcchainvm::protocol::Profile;
use stampvm::api::data::{format_payload, Encoding};
use stampvm::chain::{ChainFormat, Id};
use std::io::Write;
use std::net::SocketAddr;

/// What the banner tells.
pub(super) struct Banner<'a> {
    pub(super) http: SocketAddr,
    pub(super) chain_id: Id,
    pub(super) chain_dir: &'a std::path::Path,
    pub(super) height: u64,
    pub(super) profile: Profile,
    /// The VM whose static API is mounted (profiles up to 30).
    pub(super) static_vm: Option<Id>,
    /// Which calls to suggest: a batched chain's are proposeBatch, getProof and the proof check.
    pub(super) format: ChainFormat,
    /// The plugin's Prometheus endpoint, as the chain config writes it.
    pub(super) metrics: Option<&'a str>,
    /// This binary, for the `verify-proof` line: it need not be on PATH.
    pub(super) command: &'a std::path::Path,
}

/// What a person needs to start using the chain, on stdout (logs stay on stderr).
pub(super) fn print_banner(banner: &Banner<'_>) {
    let mut out = std::io::stdout().lock();
    for line in banner_lines(banner) {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// The banner's lines; the `try:`, `then…:` and `check it:` lines are ready to paste into a shell.
fn banner_lines(banner: &Banner<'_>) -> Vec<String> {
    let Banner {
        http,
        chain_id,
        chain_dir,
        height,
        profile,
        static_vm,
        format,
        metrics,
        command,
    } = banner;
    let url = format!("http://{http}/ext/bc/{chain_id}/rpc");
    let payload = |document: &[u8]| format_payload(&Id::sha256(document).0, Encoding::Hex);
    let curl = |id: u32, method: &str, params: &str| {
        format!(
            "curl -s -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"timestampvm.{method}\",\"params\":{params}}}' {url}"
        )
    };
    let mut lines = vec![
        format!(
            "stampvm dev chain {chain_id} is up at height {height} (data in {})",
            chain_dir.display()
        ),
        format!("node: {profile} (the plugin speaks it too)"),
    ];
    if let Some(vm_id) = static_vm {
        lines.push(format!("static API: http://{http}/ext/vm/{vm_id}"));
    }
    lines.push(format!("JSON-RPC: {url}"));
    match format {
        ChainFormat::Single => {
            let data = payload(b"my document");
            let propose = curl(1, "proposeBlock", &format!("{{\"data\":\"{data}\"}}"));
            lines.push(format!("try: {propose}"));
            lines.push(format!("then: {}", curl(2, "getBlock", "{}")));
        }
        ChainFormat::Batched { max_batch } => {
            let (first, second) = (payload(b"my document"), payload(b"my other document"));
            let batch = format!("{{\"data\":[\"{first}\",\"{second}\"]}}");
            lines.push(format!(
                "try (up to {max_batch} payloads a block): {}",
                curl(1, "proposeBatch", &batch)
            ));
            let proof = curl(2, "getProof", &format!("{{\"data\":\"{first}\"}}"));
            lines.push(format!(
                "then (after the next block, about a second): {proof} > proof.json"
            ));
            lines.push(format!(
                "check it: {} verify-proof --proof proof.json --rpc {url}",
                shell_word(&command.display().to_string())
            ));
        }
    }
    match metrics {
        Some(addr) if addr.ends_with(":0") => lines.push(
            "metrics: on a port the plugin chose (its `serving Prometheus metrics` log line names it)"
                .into(),
        ),
        Some(addr) => lines.push(format!("metrics: http://{addr}/metrics")),
        None => {}
    }
    lines.push(format!(
        "node endpoints: http://{http}/ext/health (GET), /ext/info (info.getNodeVersion), /ext/metrics"
    ));
    lines.push("Ctrl-C stops the chain; the next start resumes it.".into());
    lines
}

/// `word` as one word for a POSIX shell: as it is when it has nothing the shell would read
/// otherwise, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-:=@%,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_a_shell() {
        assert_eq!(shell_word("/usr/bin/stampvm"), "/usr/bin/stampvm");
        assert_eq!(shell_word("/my dir/it's"), r"'/my dir/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    fn banner(format: ChainFormat, metrics: Option<&str>) -> Vec<String> {
        banner_lines(&Banner {
            http: "127.0.0.1:9650".parse().unwrap(),
            chain_id: Id::sha256(b"chain"),
            chain_dir: std::path::Path::new("d"),
            height: 0,
            profile: Profile::latest(),
            static_vm: None,
            format,
            metrics,
            command: std::path::Path::new("/bin/stampvm"),
        })
    }

    #[test]
    fn each_format_gets_its_own_calls() {
        let single = banner(ChainFormat::Single, Some("127.0.0.1:9100")).join("\n");
        assert!(single.contains("timestampvm.proposeBlock"), "{single}");
        assert!(!single.contains("proposeBatch") && !single.contains("verify-proof"));
        assert!(single.contains("metrics: http://127.0.0.1:9100/metrics"));
        assert!(single.contains("node endpoints: http://127.0.0.1:9650/ext/health (GET)"));
        let batched = banner(ChainFormat::Batched { max_batch: 4096 }, None).join("\n");
        for call in [
            "timestampvm.proposeBatch",
            "timestampvm.getProof",
            "> proof.json",
        ] {
            assert!(batched.contains(call), "{call}: {batched}");
        }
        assert!(batched.contains("/bin/stampvm verify-proof --proof proof.json --rpc http://"));
        assert!(!batched.contains("proposeBlock") && !batched.contains("metrics:"));
    }
}
