//! `stampvm bench` end to end against stampvm itself: a short run (2 s, 4 clients) starts the
//! plugin and a chain as `dev` does, loads it through the HTTP gateway and prints its figures;
//! the last stdout line (`--json`) parses, and both the API and the engine made progress.

use crate::common;

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn bench_runs_end_to_end_and_prints_its_figures() {
    let mut child = std::process::Command::new(common::plugin_binary())
        .args([
            "bench",
            "--duration",
            "2",
            "--clients",
            "4",
            "--proofs",
            "50",
            "--json",
        ])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("stampvm bench starts");
    // Drained as it runs: the plugin logs every block on stderr, more than a pipe holds.
    let (stdout, stderr) = (Arc::new(Mutex::new(String::new())), Arc::default());
    let readers = [
        common::collect(child.stdout.take().unwrap(), stdout.clone()),
        common::collect(child.stderr.take().unwrap(), Arc::clone(&stderr)),
    ];
    // The bench caps itself (duration + 90 s); this bound only keeps a hung run from hanging CI.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("stampvm bench did not stop by itself within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().unwrap();
    // The readers end when the pipes close: the bench and its plugin are gone.
    for reader in readers {
        reader.join().unwrap();
    }
    let stdout = stdout.lock().unwrap().clone();
    let stderr: String = stderr.lock().unwrap().clone();
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("proposals accepted"), "{stdout}");
    assert!(stdout.contains("block cycle"), "{stdout}");

    let last = stdout.lines().last().unwrap_or_default();
    let figures: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(figures["api"], "stampvm", "{figures}");
    assert!(
        figures["proposals_accepted"].as_u64() > Some(0),
        "{figures}"
    );
    assert!(figures["blocks_finalized"].as_u64() > Some(0), "{figures}");
    assert!(
        figures["block_cycle_max_ms"].as_f64() > Some(0.0),
        "{figures}"
    );
    assert!(
        figures["plugin_rss_end_kib"].as_u64() > Some(0),
        "{figures}"
    );
}
