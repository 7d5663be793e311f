//! How the binary prints an error chain: each cause once. Many of the library's errors name their
//! cause in their own message (so a log line that shows only the message is complete) and also
//! expose it as `source()`; anyhow's `{:#}` would then print the cause twice
//! (`HTTP API on 127.0.0.1:9650: Address already in use (os error 98): Address already in use (os
//! error 98)`).

/// The error and its causes joined with `: `, leaving out a cause whose text the part before it
/// already contains.
pub fn chain(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("HTTP API on 127.0.0.1:9650: {source}")]
    struct Bind {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_named_in_the_message_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let error = anyhow::Error::new(Bind { source: io }).context("starting the dev chain");
        assert_eq!(
            chain(&error),
            "starting the dev chain: HTTP API on 127.0.0.1:9650: Address already in use"
        );
    }

    #[test]
    fn a_cause_not_in_the_message_is_appended() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(io).context("reading chain config x.json");
        assert_eq!(chain(&error), "reading chain config x.json: No such file");
    }
}
