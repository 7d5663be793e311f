//! Logs to stderr, which the node copies into the chain's log file. The process starts logging at
//! `info`, in the format `GRPC_STAMPVM_LOG_FORMAT` names (`json` or `text`, the default; the node
//! forwards `GRPC_*` variables, so an operator who wants JSON from the first line sets it where the
//! node starts); the chain config, read at Initialize, then sets the level and the format.
//!
//! Two formatting layers are installed, each behind a reloadable filter; switching the format
//! turns one on and the other off, so no subscriber has to be replaced at run time.
//!
//! `stampvm dev` reads its chain config first and starts in the format it names
//! ([`init_as`]), so the host's lines, its plugin's (copied by the host, which `dev` tells
//! [`writes_json`] through its launch options) and its final error ([`print_error`]) are all in
//! one format from the first.

use crate::config::{LogFormat, LogLevel};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, reload};

type Reload = Box<dyn Fn(EnvFilter) -> Result<(), reload::Error> + Send + Sync>;

struct Switches {
    text: Reload,
    json: Reload,
    /// RUST_LOG, when set by hand (e.g. for `stampvm dev`): it wins over the chain config.
    from_env: bool,
}

static SWITCHES: OnceLock<Switches> = OnceLock::new();
/// Whether this process's stderr log is JSON now: set by [`init_as`] and [`apply`].
static WRITES_JSON: AtomicBool = AtomicBool::new(false);

fn off() -> EnvFilter {
    EnvFilter::new("off")
}

/// The variable that picks the format of the first lines, before any chain config is read.
pub const FORMAT_ENV_VAR: &str = "GRPC_STAMPVM_LOG_FORMAT";

/// The format [`FORMAT_ENV_VAR`] asks for; text when unset or not `json`.
pub fn format_from_env() -> LogFormat {
    match std::env::var(FORMAT_ENV_VAR) {
        Ok(value) if value.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

/// Installs the global subscriber (once per process) in the format [`format_from_env`] names.
/// `ansi`: colour, for a terminal only.
pub fn init(ansi: bool) {
    init_as(ansi, format_from_env());
}

/// [`init`] in `format`, whatever the environment says.
pub fn init_as(ansi: bool, format: LogFormat) {
    let from_env = std::env::var_os("RUST_LOG").is_some();
    let initial = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (text_initial, json_initial) = match format {
        LogFormat::Text => (initial(), off()),
        LogFormat::Json => (off(), initial()),
    };
    let (text_filter, text_handle) = reload::Layer::new(text_initial);
    let (json_filter, json_handle) = reload::Layer::new(json_initial);
    // When the node dies our stderr pipe breaks; reporting that failure on stderr again would
    // panic the logging thread (and it would reach no one).
    let text = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .log_internal_errors(false)
        .with_filter(text_filter);
    let json = fmt::layer()
        .json()
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_filter(json_filter);
    if tracing_subscriber::registry()
        .with(text)
        .with(json)
        .try_init()
        .is_err()
    {
        return; // a subscriber exists already (tests): keep it
    }
    WRITES_JSON.store(format == LogFormat::Json, Ordering::SeqCst);
    let _ = SWITCHES.set(Switches {
        text: Box::new(move |filter| text_handle.reload(filter)),
        json: Box::new(move |filter| json_handle.reload(filter)),
        from_env,
    });
}

/// Applies the chain config's level and format (`None`: the start-up format,
/// [`format_from_env`]). A level set through RUST_LOG is kept.
pub fn apply(level: LogLevel, format: Option<LogFormat>) {
    let format = format.unwrap_or_else(format_from_env);
    let Some(switches) = SWITCHES.get() else {
        return;
    };
    let filter = || {
        if switches.from_env {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level.as_str()))
        } else {
            EnvFilter::new(level.as_str())
        }
    };
    let (on, off_switch) = match format {
        LogFormat::Text => (&switches.text, &switches.json),
        LogFormat::Json => (&switches.json, &switches.text),
    };
    // Turn the new one on first, so no event falls between the two.
    let outcome = on(filter()).and_then(|()| off_switch(off()));
    match outcome {
        Ok(()) => WRITES_JSON.store(format == LogFormat::Json, Ordering::SeqCst),
        Err(e) => tracing::warn!(error = %e, "could not apply the log settings"),
    }
}

/// Whether this process logs JSON lines to stderr now (false until [`init_as`] installed the
/// subscriber, e.g. in tests that install their own).
pub fn writes_json() -> bool {
    WRITES_JSON.load(Ordering::SeqCst)
}

/// The command's last word on stderr, `stampvm: error: <text>`: as a plain line, or in JSON mode
/// as an ERROR event of the same layout as the log's, so a log shipper reads every line. It
/// goes around the log's level filter: an exit without its reason helps no one.
pub fn print_error(text: &str) {
    let line = format!("stampvm: error: {text}");
    if !writes_json() {
        eprintln!("{line}");
        return;
    }
    let once = fmt::fmt()
        .json()
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .finish();
    tracing::subscriber::with_default(once, || tracing::error!(target: "stampvm", "{line}"));
}
