//! The node's consistency rules for a `vm.VM/Gather` answer (docs/spec/wire-45.md §6,
//! docs/spec/node-behaviour.md §9), and the name rules they rest on.
//!
//! Any violation turns the node's whole `/ext/metrics` into HTTP 500, and the node only finds out
//! at scrape time. A VM checks its own `Gather` output with [`check_families`] (in tests, or
//! before answering), and a node's side applies the same rules to what a plugin returns, so a
//! regression shows up as a failing assertion instead of a dark dashboard.

use crate::pb::io::prometheus::client::{Metric, MetricFamily, MetricType};
use std::collections::HashSet;

/// The label the node adds to every metric of a chain (its value is the chain's alias); a
/// plugin that emits it itself breaks the scrape.
pub const CHAIN_LABEL: &str = "chain";

/// One broken rule; the family name says where to look.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    #[error("metric family name {0:?} is not [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidName(String),
    #[error("metric family {0} is returned twice")]
    DuplicateFamily(String),
    #[error("metric family {0} has no explicit or known type")]
    MissingType(String),
    #[error("metric family {0} has no metrics (it must be omitted)")]
    Empty(String),
    #[error("a metric of {0} does not carry exactly the sub-message of the family type")]
    WrongSubMessage(String),
    #[error("a metric of {family} has an invalid, repeated or reserved label {label:?}")]
    BadLabel { family: String, label: String },
    #[error("two metrics of {0} have the same label set")]
    DuplicateLabelSet(String),
    #[error("{0} collides with the _count/_sum/_bucket series of a histogram or summary")]
    SuffixCollision(String),
}

/// Checks a `Gather` answer against the node's rules, plus two promises the node's registry
/// makes of its own gatherers (an explicit `type`, no empty families). Returns the first
/// violation found.
pub fn check_families(families: &[MetricFamily]) -> Result<(), Inconsistency> {
    let mut names = HashSet::new();
    for family in families {
        let name = family.name();
        if !valid_metric_name(name) {
            return Err(Inconsistency::InvalidName(name.to_owned()));
        }
        if !names.insert(name) {
            return Err(Inconsistency::DuplicateFamily(name.to_owned()));
        }
        let Some(kind) = family.r#type.and_then(|t| MetricType::try_from(t).ok()) else {
            return Err(Inconsistency::MissingType(name.to_owned()));
        };
        if family.metric.is_empty() {
            return Err(Inconsistency::Empty(name.to_owned()));
        }
        let mut label_sets = HashSet::new();
        for metric in &family.metric {
            check_metric(name, kind, metric)?;
            let mut set: Vec<(&str, &str)> =
                metric.label.iter().map(|l| (l.name(), l.value())).collect();
            set.sort_unstable();
            if !label_sets.insert(set) {
                return Err(Inconsistency::DuplicateLabelSet(name.to_owned()));
            }
        }
    }
    for family in families {
        if shadows_series(family.name(), families) {
            return Err(Inconsistency::SuffixCollision(family.name().to_owned()));
        }
    }
    Ok(())
}

fn check_metric(family: &str, kind: MetricType, metric: &Metric) -> Result<(), Inconsistency> {
    let present = [
        metric.counter.is_some(),
        metric.gauge.is_some(),
        metric.summary.is_some(),
        metric.untyped.is_some(),
        metric.histogram.is_some(),
    ];
    let wanted = match kind {
        MetricType::Counter => 0,
        MetricType::Gauge => 1,
        MetricType::Summary => 2,
        MetricType::Untyped => 3,
        MetricType::Histogram | MetricType::GaugeHistogram => 4,
    };
    if present.iter().filter(|p| **p).count() != 1 || !present[wanted] {
        return Err(Inconsistency::WrongSubMessage(family.to_owned()));
    }
    let reserved = match kind {
        MetricType::Summary => Some("quantile"),
        MetricType::Histogram | MetricType::GaugeHistogram => Some("le"),
        _ => None,
    };
    let mut seen = HashSet::new();
    for label in &metric.label {
        let name = label.name();
        if !valid_label_name(name)
            || name == CHAIN_LABEL
            || Some(name) == reserved
            || !seen.insert(name)
        {
            return Err(Inconsistency::BadLabel {
                family: family.to_owned(),
                label: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// Mirrors prometheus' suffix-collision check: `foo_count`/`foo_sum` next to a histogram or
/// summary `foo`, or `foo_bucket` next to a histogram `foo`.
fn shadows_series(name: &str, families: &[MetricFamily]) -> bool {
    let kind_of = |base: &str| {
        families
            .iter()
            .find(|f| f.name() == base)
            .map(|f| f.r#type())
    };
    [("_bucket", false), ("_sum", true), ("_count", true)]
        .into_iter()
        .any(|(suffix, summary_too)| {
            let kind = name.strip_suffix(suffix).and_then(kind_of);
            matches!(
                kind,
                Some(MetricType::Histogram | MetricType::GaugeHistogram)
            ) || (summary_too && kind == Some(MetricType::Summary))
        })
}

/// Whether `c` may stand in a metric name, at its start (`first`) or further on: letters, `_`
/// and `:`, and digits after the first character. For readers that scan a name off a line.
pub fn metric_name_char(c: char, first: bool) -> bool {
    label_name_char(c, first) || c == ':'
}

/// Whether `c` may stand in a label name: as in a metric name, but never `:`.
pub fn label_name_char(c: char, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!first && c.is_ascii_digit())
}

/// Prometheus' metric name rule, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn valid_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .char_indices()
            .all(|(i, c)| metric_name_char(c, i == 0))
}

/// Prometheus' label name rule, `[a-zA-Z_][a-zA-Z0-9_]*`.
fn valid_label_name(name: &str) -> bool {
    !name.is_empty() && name.char_indices().all(|(i, c)| label_name_char(c, i == 0))
}

#[cfg(test)]
mod tests {
    //! One answer per rule: each breaks exactly one rule and must be refused with its variant;
    //! the well-formed answer they start from must pass.
    use super::*;
    use crate::pb::io::prometheus::client::{Counter, Histogram, LabelPair, Summary};

    fn label(name: &str, value: &str) -> LabelPair {
        LabelPair {
            name: Some(name.into()),
            value: Some(value.into()),
        }
    }

    fn counter(labels: Vec<LabelPair>) -> Metric {
        Metric {
            label: labels,
            counter: Some(Counter {
                value: Some(1.0),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn family(name: &str, kind: Option<MetricType>, metric: Vec<Metric>) -> MetricFamily {
        MetricFamily {
            name: Some(name.into()),
            help: Some("help".into()),
            r#type: kind.map(|kind| kind as i32),
            metric,
            unit: None,
        }
    }

    fn histogram(name: &str) -> MetricFamily {
        let metric = Metric {
            histogram: Some(Histogram::default()),
            ..Default::default()
        };
        family(name, Some(MetricType::Histogram), vec![metric])
    }

    fn requests() -> MetricFamily {
        let metrics = vec![
            counter(vec![label("method", "a")]),
            counter(vec![label("method", "b")]),
        ];
        family("requests_total", Some(MetricType::Counter), metrics)
    }

    #[test]
    fn a_well_formed_answer_passes() {
        let summary = Metric {
            label: vec![label("op", "x")],
            summary: Some(Summary::default()),
            ..Default::default()
        };
        let families = vec![
            requests(),
            histogram("latency_seconds"),
            family("rpc:ops", Some(MetricType::Summary), vec![summary]),
        ];
        assert_eq!(check_families(&families), Ok(()));
        assert_eq!(check_families(&[]), Ok(()));
    }

    #[test]
    fn each_rule_is_enforced() {
        let counter_of =
            |name: &str, labels| family(name, Some(MetricType::Counter), vec![counter(labels)]);
        let check = |families: Vec<MetricFamily>| check_families(&families).unwrap_err();
        assert_eq!(
            check(vec![counter_of("1st", vec![])]),
            Inconsistency::InvalidName("1st".into())
        );
        assert_eq!(
            check(vec![requests(), requests()]),
            Inconsistency::DuplicateFamily("requests_total".into())
        );
        assert_eq!(
            check(vec![family("x", None, vec![counter(vec![])])]),
            Inconsistency::MissingType("x".into())
        );
        assert_eq!(
            check(vec![family("x", Some(MetricType::Counter), vec![])]),
            Inconsistency::Empty("x".into())
        );
        assert_eq!(
            check(vec![family(
                "x",
                Some(MetricType::Gauge),
                vec![counter(vec![])]
            )]),
            Inconsistency::WrongSubMessage("x".into())
        );
        let bad_label = |name: &str| Inconsistency::BadLabel {
            family: "x".into(),
            label: name.into(),
        };
        for name in [CHAIN_LABEL, "a:b", "", "9x"] {
            let labels = vec![label(name, "v")];
            assert_eq!(check(vec![counter_of("x", labels)]), bad_label(name));
        }
        let twice = vec![label("a", "1"), label("a", "2")];
        assert_eq!(check(vec![counter_of("x", twice)]), bad_label("a"));
        let mut reserved = histogram("x");
        reserved.metric[0].label = vec![label("le", "1")];
        assert_eq!(check(vec![reserved]), bad_label("le"));
        let same = vec![
            counter(vec![label("a", "1")]),
            counter(vec![label("a", "1")]),
        ];
        assert_eq!(
            check(vec![family("x", Some(MetricType::Counter), same)]),
            Inconsistency::DuplicateLabelSet("x".into())
        );
        for series in ["h_bucket", "h_sum", "h_count"] {
            assert_eq!(
                check(vec![histogram("h"), counter_of(series, vec![])]),
                Inconsistency::SuffixCollision(series.into())
            );
        }
        // Only histograms and summaries have `_count` series: next to a counter it is a name.
        assert_eq!(
            check_families(&[counter_of("g", vec![]), counter_of("g_count", vec![])]),
            Ok(())
        );
    }

    #[test]
    fn name_rules() {
        assert!(valid_metric_name("avalanche_x:y_1"));
        assert!(!valid_metric_name(""));
        assert!(!valid_metric_name("1a"));
        assert!(!valid_metric_name("a-b"));
        assert!(valid_label_name("_a1"));
        assert!(!valid_label_name("a:b"));
        assert!(!valid_label_name("1a"));
        assert!(metric_name_char(':', true) && !label_name_char(':', false));
    }
}
