//! Prometheus text exposition (format 0.0.4) → `io.prometheus.client.MetricFamily`.
//!
//! The exporter only speaks text; the node's `Gather` wants protobuf. Converting the exporter's own
//! rendering keeps one source of truth: what `/metrics` shows is exactly what `Gather` returns.
//! Unreadable lines are skipped rather than reported, because a `Gather` error would fail the whole
//! node's scrape (docs/spec/node-behaviour.md §9); and the output is shaped to pass the node's
//! consistency checks (docs/spec/wire-45.md §6) whatever the input: see
//! [`rpcchainvm::gather::check_families`].

use std::collections::BTreeMap;

use rpcchainvm::gather::{label_name_char, metric_name_char, valid_metric_name, CHAIN_LABEL};
use rpcchainvm::pb::io::prometheus::client::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType, Quantile,
    Summary, Untyped,
};

/// A series' labels, sorted by name, without `chain` and without the `le`/`quantile` label that
/// the text format uses to spread one histogram or summary over several lines.
type LabelSet = Vec<(String, String)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

/// Which part of a series a sample line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Value,
    Bucket,
    Sum,
    Count,
}

/// Everything read for one label set; the first line for each part wins, so duplicates vanish.
#[derive(Default)]
struct Series {
    value: Option<f64>,
    /// `(le or φ, value)` pairs: histogram buckets or summary quantiles.
    points: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
}

struct Family {
    help: Option<String>,
    kind: Kind,
    series: BTreeMap<LabelSet, Series>,
}

/// Converts exposition text into families sorted by name, each metric sorted by labels.
pub(crate) fn parse(text: &str) -> Vec<MetricFamily> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix('#') {
            read_comment(comment, &mut families);
        } else if !line.is_empty() {
            if let Some((name, labels, value)) = read_sample(line) {
                add_sample(name, labels, value, &mut families);
            }
        }
    }
    let mut out = Vec::new();
    for (name, family) in &families {
        if collides(name, &families) {
            continue;
        }
        let metric: Vec<Metric> = family
            .series
            .iter()
            .filter_map(|(labels, series)| to_metric(family.kind, labels, series))
            .collect();
        if metric.is_empty() {
            continue;
        }
        out.push(MetricFamily {
            name: Some(name.clone()),
            help: Some(family.help.clone().unwrap_or_default()),
            r#type: Some(metric_type(family.kind) as i32),
            metric,
            unit: None,
        });
    }
    out
}

/// `# HELP name text` and `# TYPE name kind`; every other comment is ignored.
fn read_comment(body: &str, families: &mut BTreeMap<String, Family>) {
    let Some((keyword, rest)) = body.trim_start().split_once([' ', '\t']) else {
        return;
    };
    let rest = rest.trim_start();
    let (name, text) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if !valid_metric_name(name) || !matches!(keyword, "HELP" | "TYPE") {
        return;
    }
    let family = families.entry(name.to_owned()).or_insert_with(|| Family {
        help: None,
        kind: Kind::Untyped,
        series: BTreeMap::new(),
    });
    if keyword == "HELP" {
        family.help.get_or_insert_with(|| unescape_help(text));
    } else if family.series.is_empty() {
        // A TYPE after samples would retype lines already read; keep what they were read as.
        family.kind = match text.trim() {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            _ => Kind::Untyped,
        };
    }
}

/// `name{label="value",...} value [timestamp]`; the timestamp is accepted and dropped.
fn read_sample(line: &str) -> Option<(&str, LabelSet, f64)> {
    let end = line
        .char_indices()
        .find(|&(i, c)| !metric_name_char(c, i == 0))
        .map_or(line.len(), |(i, _)| i);
    let (name, rest) = line.split_at(end);
    if name.is_empty() || !rest.starts_with([' ', '\t', '{']) {
        return None;
    }
    let rest = rest.trim_start();
    let (labels, rest) = match rest.strip_prefix('{') {
        Some(inner) => read_labels(inner)?,
        None => (Vec::new(), rest),
    };
    let mut fields = rest.split_whitespace();
    let value: f64 = fields.next()?.parse().ok()?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().ok()?;
    }
    fields.next().is_none().then_some((name, labels, value))
}

/// Reads `label="value",...}` (the `{` already consumed); returns the labels and what follows.
fn read_labels(mut rest: &str) -> Option<(LabelSet, &str)> {
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let end = rest
            .char_indices()
            .find(|&(i, c)| !label_name_char(c, i == 0))
            .map_or(rest.len(), |(i, _)| i);
        let (name, after) = rest.split_at(end);
        let after = after.trim_start().strip_prefix('=')?;
        let after = after.trim_start().strip_prefix('"')?;
        let (value, after) = read_quoted(after)?;
        if name.is_empty() {
            return None;
        }
        labels.push((name.to_owned(), value));
        rest = after.trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None if rest.starts_with('}') => {}
            None => return None,
        }
    }
}

/// Reads a label value up to its closing quote, undoing the `\\`, `\"` and `\n` escapes.
fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                escaped @ ('\\' | '"') => value.push(escaped),
                other => {
                    value.push('\\');
                    value.push(other);
                }
            },
            c => value.push(c),
        }
    }
    None
}

/// HELP text escapes only `\\` and `\n`; anything else after a backslash is kept as written.
fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Files one sample under its family; lines that break the family's shape are dropped.
fn add_sample(
    name: &str,
    mut labels: LabelSet,
    value: f64,
    families: &mut BTreeMap<String, Family>,
) {
    let (family_name, role) = locate(name, families);
    let family = families.entry(family_name).or_insert_with(|| Family {
        help: None,
        kind: Kind::Untyped,
        series: BTreeMap::new(),
    });
    labels.sort();
    if labels.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return;
    }
    labels.retain(|(label, _)| label != CHAIN_LABEL);
    let special = match family.kind {
        Kind::Histogram => "le",
        Kind::Summary => "quantile",
        _ => "",
    };
    let point = labels
        .iter()
        .position(|(label, _)| label == special)
        .and_then(|at| labels.remove(at).1.parse::<f64>().ok());
    let count_like = |v: f64| v.is_finite() && v >= 0.0;
    match (family.kind, role, point) {
        (Kind::Counter | Kind::Gauge | Kind::Untyped, Role::Value, _) => {
            family
                .series
                .entry(labels)
                .or_default()
                .value
                .get_or_insert(value);
        }
        (Kind::Histogram, Role::Bucket, Some(le)) | (Kind::Summary, Role::Value, Some(le))
            if !le.is_nan() && (family.kind == Kind::Summary || count_like(value)) =>
        {
            let series = family.series.entry(labels).or_default();
            if !series.points.iter().any(|&(seen, _)| seen == le) {
                series.points.push((le, value));
            }
        }
        (Kind::Histogram | Kind::Summary, Role::Sum, _) => {
            family
                .series
                .entry(labels)
                .or_default()
                .sum
                .get_or_insert(value);
        }
        (Kind::Histogram | Kind::Summary, Role::Count, _) if count_like(value) => {
            family
                .series
                .entry(labels)
                .or_default()
                .count
                .get_or_insert(value);
        }
        _ => {}
    }
}

/// Maps `foo_bucket`/`foo_sum`/`foo_count` to the histogram or summary `foo` they belong to.
fn locate(name: &str, families: &BTreeMap<String, Family>) -> (String, Role) {
    for (suffix, role) in [
        ("_bucket", Role::Bucket),
        ("_sum", Role::Sum),
        ("_count", Role::Count),
    ] {
        let Some(base) = name.strip_suffix(suffix) else {
            continue;
        };
        match families.get(base).map(|family| family.kind) {
            Some(Kind::Histogram) => return (base.to_owned(), role),
            Some(Kind::Summary) if role != Role::Bucket => return (base.to_owned(), role),
            _ => {}
        }
    }
    (name.to_owned(), Role::Value)
}

/// True when `name` would shadow a series of a histogram or summary family (the node rejects it).
fn collides(name: &str, families: &BTreeMap<String, Family>) -> bool {
    [("_bucket", false), ("_sum", true), ("_count", true)]
        .into_iter()
        .any(|(suffix, summary_too)| {
            let kind = name
                .strip_suffix(suffix)
                .and_then(|base| families.get(base))
                .filter(|family| !family.series.is_empty())
                .map(|family| family.kind);
            kind == Some(Kind::Histogram) || (summary_too && kind == Some(Kind::Summary))
        })
}

fn to_metric(kind: Kind, labels: &LabelSet, series: &Series) -> Option<Metric> {
    let mut metric = Metric {
        label: labels
            .iter()
            .map(|(name, value)| LabelPair {
                name: Some(name.clone()),
                value: Some(value.clone()),
            })
            .collect(),
        ..Metric::default()
    };
    let mut points = series.points.clone();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    match kind {
        Kind::Counter => {
            metric.counter = Some(Counter {
                value: Some(series.value?),
                ..Counter::default()
            })
        }
        Kind::Gauge => {
            metric.gauge = Some(Gauge {
                value: Some(series.value?),
            })
        }
        Kind::Untyped => {
            metric.untyped = Some(Untyped {
                value: Some(series.value?),
            })
        }
        Kind::Histogram => {
            // +Inf is implied by sample_count (both forms are valid); keep the finite bounds.
            let infinite = points.iter().find(|p| p.0 == f64::INFINITY).map(|p| p.1);
            metric.histogram = Some(Histogram {
                sample_count: Some(series.count.or(infinite).unwrap_or(0.0) as u64),
                sample_sum: Some(series.sum.unwrap_or(0.0)),
                bucket: points
                    .iter()
                    .filter(|p| p.0 != f64::INFINITY)
                    .map(|&(le, count)| Bucket {
                        cumulative_count: Some(count as u64),
                        upper_bound: Some(le),
                        ..Bucket::default()
                    })
                    .collect(),
                ..Histogram::default()
            });
        }
        Kind::Summary => {
            metric.summary = Some(Summary {
                sample_count: Some(series.count.unwrap_or(0.0) as u64),
                sample_sum: Some(series.sum.unwrap_or(0.0)),
                quantile: points
                    .iter()
                    .map(|&(quantile, value)| Quantile {
                        quantile: Some(quantile),
                        value: Some(value),
                    })
                    .collect(),
                ..Summary::default()
            });
        }
    }
    Some(metric)
}

fn metric_type(kind: Kind) -> MetricType {
    match kind {
        Kind::Counter => MetricType::Counter,
        Kind::Gauge => MetricType::Gauge,
        Kind::Histogram => MetricType::Histogram,
        Kind::Summary => MetricType::Summary,
        Kind::Untyped => MetricType::Untyped,
    }
}
