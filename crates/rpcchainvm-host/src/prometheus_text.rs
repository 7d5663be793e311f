//! What the node's `/ext/metrics` shows of a plugin's `Gather` answer: each family's name
//! prefixed and a `chain` label added, as AvalancheGo v1.11.10 and later do (README, "Metrics":
//! `avalanche_<vmID>_<name>{chain="<chain alias>"}`), the families of several chains of one VM
//! merged, then written in the Prometheus text format (0.0.4) as Go's `expfmt` writes it.
//!
//! A plugin converts its own metrics into these families (stampvm from its exporter's text);
//! this is the way back, for `stampvm dev`'s gateway, which plays the node.

use rpcchainvm::gather::CHAIN_LABEL;
use rpcchainvm::pb::io::prometheus::client::{LabelPair, Metric, MetricFamily, MetricType};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Why the families of several chains could not be merged; the node's gatherer refuses the
/// same way, and the scrape fails (HTTP 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("metric family {name} has help {first:?} from one chain and {second:?} from another")]
    Help {
        name: String,
        first: String,
        second: String,
    },
    #[error("metric family {0} has different types in different chains")]
    Type(String),
}

/// `families` as the node shows them for one chain: names prefixed with `prefix`
/// (`avalanche_<vmID>_`), `chain="<chain>"` added to every metric's labels, labels sorted by
/// name. The caller has checked the families against the node's rules
/// ([`rpcchainvm::gather::check_families`]), so no `chain` label is there already.
pub fn for_chain(prefix: &str, chain: &str, families: Vec<MetricFamily>) -> Vec<MetricFamily> {
    families
        .into_iter()
        .map(|mut family| {
            family.name = Some(format!("{prefix}{}", family.name()));
            for metric in &mut family.metric {
                metric.label.push(LabelPair {
                    name: Some(CHAIN_LABEL.to_owned()),
                    value: Some(chain.to_owned()),
                });
                metric.label.sort_by(|a, b| a.name().cmp(b.name()));
            }
            family
        })
        .collect()
}

/// One list of families, sorted by name, from the lists of several chains: families of the
/// same name (the same VM on several chains) become one, with the metrics of all, which the
/// `chain` label tells apart. They must agree on help and type, as the node requires.
pub fn merge(chains: Vec<Vec<MetricFamily>>) -> Result<Vec<MetricFamily>, MergeError> {
    let mut merged: BTreeMap<String, MetricFamily> = BTreeMap::new();
    for family in chains.into_iter().flatten() {
        let Some(existing) = merged.get_mut(family.name()) else {
            merged.insert(family.name().to_owned(), family);
            continue;
        };
        if existing.help() != family.help() {
            return Err(MergeError::Help {
                name: family.name().to_owned(),
                first: existing.help().to_owned(),
                second: family.help().to_owned(),
            });
        }
        if existing.r#type() != family.r#type() {
            return Err(MergeError::Type(family.name().to_owned()));
        }
        existing.metric.extend(family.metric);
    }
    let mut families: Vec<MetricFamily> = merged.into_values().collect();
    for family in &mut families {
        family.metric.sort_by_cached_key(label_key);
    }
    Ok(families)
}

fn label_key(metric: &Metric) -> Vec<(String, String)> {
    let pairs = metric.label.iter();
    pairs
        .map(|l| (l.name().to_owned(), l.value().to_owned()))
        .collect()
}

/// The text exposition of `families`: `# HELP` (when there is help) and `# TYPE` lines, then one
/// line per sample; histograms as `_bucket{le=…}` (with `+Inf`), `_sum` and `_count`, summaries as
/// `{quantile=…}`, `_sum` and `_count`. Gauge histograms are written as histograms, the closest
/// type the text format has.
pub fn render(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    for family in families {
        let name = family.name();
        if !family.help().is_empty() {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(family.help()));
        }
        let kind = family.r#type();
        let _ = writeln!(out, "# TYPE {name} {}", type_name(kind));
        for metric in &family.metric {
            write_metric(&mut out, name, kind, metric);
        }
    }
    out
}

fn type_name(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Summary => "summary",
        MetricType::Untyped => "untyped",
        MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
    }
}

fn write_metric(out: &mut String, name: &str, kind: MetricType, metric: &Metric) {
    let sample = |out: &mut String, suffix: &str, extra: Option<(&str, f64)>, value: f64| {
        write_sample(
            out,
            name,
            suffix,
            &metric.label,
            extra,
            value,
            metric.timestamp_ms,
        );
    };
    match kind {
        MetricType::Counter => {
            let value = metric.counter.as_ref().map_or(0.0, |c| c.value());
            sample(out, "", None, value);
        }
        MetricType::Gauge => {
            let value = metric.gauge.as_ref().map_or(0.0, |g| g.value());
            sample(out, "", None, value);
        }
        MetricType::Untyped => {
            let value = metric.untyped.as_ref().map_or(0.0, |u| u.value());
            sample(out, "", None, value);
        }
        MetricType::Summary => {
            let summary = metric.summary.clone().unwrap_or_default();
            for quantile in &summary.quantile {
                let at = Some(("quantile", quantile.quantile()));
                sample(out, "", at, quantile.value());
            }
            sample(out, "_sum", None, summary.sample_sum());
            sample(out, "_count", None, summary.sample_count() as f64);
        }
        MetricType::Histogram | MetricType::GaugeHistogram => {
            let histogram = metric.histogram.clone().unwrap_or_default();
            let count = histogram
                .sample_count_float
                .unwrap_or(histogram.sample_count() as f64);
            let mut saw_infinity = false;
            for bucket in &histogram.bucket {
                let bound = bucket.upper_bound();
                saw_infinity |= bound == f64::INFINITY;
                let cumulative = bucket
                    .cumulative_count_float
                    .unwrap_or(bucket.cumulative_count() as f64);
                sample(out, "_bucket", Some(("le", bound)), cumulative);
            }
            if !saw_infinity {
                sample(out, "_bucket", Some(("le", f64::INFINITY)), count);
            }
            sample(out, "_sum", None, histogram.sample_sum());
            sample(out, "_count", None, count);
        }
    }
}

/// `name{labels} value [timestamp]`; `extra` is the `le` or `quantile` label, written last.
fn write_sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[LabelPair],
    extra: Option<(&str, f64)>,
    value: f64,
    timestamp_ms: Option<i64>,
) {
    out.push_str(name);
    out.push_str(suffix);
    let extra = extra.map(|(label, at)| (label, format_float(at)));
    let pairs = labels.iter().map(|l| (l.name(), l.value().to_owned()));
    let pairs: Vec<(&str, String)> = pairs.chain(extra).collect();
    if !pairs.is_empty() {
        out.push('{');
        for (i, (label, value)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label_value(value));
        }
        out.push('}');
    }
    let _ = write!(out, " {}", format_float(value));
    if let Some(ms) = timestamp_ms {
        let _ = write!(out, " {ms}");
    }
    out.push('\n');
}

/// Go's `expfmt` spelling: `+Inf`, `-Inf` and `NaN`, otherwise the shortest exact decimal.
fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        value.to_string()
    }
}

/// Help text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', r"\\").replace('\n', r"\n")
}

/// Label values: backslash, double quote and line feed escaped.
fn escape_label_value(text: &str) -> String {
    escape_help(text).replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcchainvm::pb::io::prometheus::client::{Bucket, Counter, Histogram, Quantile, Summary};

    fn label(name: &str, value: &str) -> LabelPair {
        LabelPair {
            name: Some(name.into()),
            value: Some(value.into()),
        }
    }

    fn family(name: &str, kind: MetricType, metric: Vec<Metric>) -> MetricFamily {
        MetricFamily {
            name: Some(name.into()),
            help: Some(format!("help of {name}")),
            r#type: Some(kind as i32),
            metric,
            unit: None,
        }
    }

    fn counter(value: f64, labels: Vec<LabelPair>) -> Metric {
        Metric {
            label: labels,
            counter: Some(Counter {
                value: Some(value),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn counters_get_the_prefix_and_a_sorted_chain_label() {
        let families = vec![family(
            "stampvm_requests_total",
            MetricType::Counter,
            vec![counter(3.0, vec![label("method", "Get\"x\\\n")])],
        )];
        let shown = for_chain("avalanche_VM_", "CHAIN", families);
        assert_eq!(
            render(&shown),
            "# HELP avalanche_VM_stampvm_requests_total help of stampvm_requests_total\n\
             # TYPE avalanche_VM_stampvm_requests_total counter\n\
             avalanche_VM_stampvm_requests_total{chain=\"CHAIN\",method=\"Get\\\"x\\\\\\n\"} 3\n"
        );
    }

    #[test]
    fn histograms_and_summaries_spell_out_their_series() {
        let histogram = Metric {
            histogram: Some(Histogram {
                sample_count: Some(3),
                sample_sum: Some(0.75),
                bucket: vec![
                    Bucket {
                        cumulative_count: Some(1),
                        upper_bound: Some(0.1),
                        ..Default::default()
                    },
                    Bucket {
                        cumulative_count: Some(2),
                        upper_bound: Some(1.0),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let summary = Metric {
            summary: Some(Summary {
                sample_count: Some(2),
                sample_sum: Some(f64::NAN),
                quantile: vec![Quantile {
                    quantile: Some(0.5),
                    value: Some(f64::NEG_INFINITY),
                }],
                ..Default::default()
            }),
            timestamp_ms: Some(1_700_000_000_000),
            ..Default::default()
        };
        let families = vec![
            family("h", MetricType::Histogram, vec![histogram]),
            family("s", MetricType::Summary, vec![summary]),
        ];
        let text = render(&for_chain("p_", "c", families));
        let expected = "\
# HELP p_h help of h
# TYPE p_h histogram
p_h_bucket{chain=\"c\",le=\"0.1\"} 1
p_h_bucket{chain=\"c\",le=\"1\"} 2
p_h_bucket{chain=\"c\",le=\"+Inf\"} 3
p_h_sum{chain=\"c\"} 0.75
p_h_count{chain=\"c\"} 3
# HELP p_s help of s
# TYPE p_s summary
p_s{chain=\"c\",quantile=\"0.5\"} -Inf 1700000000000
p_s_sum{chain=\"c\"} NaN 1700000000000
p_s_count{chain=\"c\"} 2 1700000000000
";
        assert_eq!(text, expected);
    }

    #[test]
    fn chains_of_one_vm_share_families_that_agree() {
        let of = |chain: &str, value: f64| {
            let family = family("x_total", MetricType::Counter, vec![counter(value, vec![])]);
            for_chain("p_", chain, vec![family])
        };
        let merged = merge(vec![of("b", 2.0), of("a", 1.0)]).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(
            render(&merged).lines().skip(2).collect::<Vec<_>>(),
            ["p_x_total{chain=\"a\"} 1", "p_x_total{chain=\"b\"} 2"]
        );
        let mut other = of("c", 3.0);
        other[0].help = Some("something else".into());
        assert!(matches!(
            merge(vec![of("a", 1.0), other]),
            Err(MergeError::Help { .. })
        ));
        let mut other = of("c", 3.0);
        other[0].r#type = Some(MetricType::Gauge as i32);
        assert_eq!(
            merge(vec![of("a", 1.0), other]),
            Err(MergeError::Type("p_x_total".into()))
        );
    }
}
