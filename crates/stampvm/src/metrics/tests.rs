//! Tests for the metric names, the recorder and the `Gather` conversion. The global recorder is per
//! process and shared by every test in the lib test binary, so recorder tests assert deltas only.

use prost::Message;

use super::*;
use rpcchainvm::gather::check_families;
use rpcchainvm::pb::io::prometheus::client::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricType, Quantile, Summary, Untyped,
};
use rpcchainvm::pb::vm::GatherResponse;

fn family(name: &str, help: &str, kind: MetricType, metric: Vec<Metric>) -> MetricFamily {
    MetricFamily {
        name: Some(name.into()),
        help: Some(help.into()),
        r#type: Some(kind as i32),
        metric,
        unit: None,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs
        .iter()
        .map(|(name, value)| LabelPair {
            name: Some((*name).into()),
            value: Some((*value).into()),
        })
        .collect()
}

fn counter(pairs: &[(&str, &str)], value: f64) -> Metric {
    Metric {
        label: labels(pairs),
        counter: Some(Counter {
            value: Some(value),
            ..Counter::default()
        }),
        ..Metric::default()
    }
}

fn bucket(upper_bound: f64, count: u64) -> Bucket {
    Bucket {
        cumulative_count: Some(count),
        upper_bound: Some(upper_bound),
        ..Bucket::default()
    }
}

fn find<'a>(families: &'a [MetricFamily], name: &str) -> Option<&'a MetricFamily> {
    families.iter().find(|f| f.name() == name)
}

const HAND_WRITTEN: &str = r##"# HELP stampvm_blocks_built_total Blocks built
# TYPE stampvm_blocks_built_total counter
stampvm_blocks_built_total 7

# TYPE stampvm_payloads_refused_total counter
stampvm_payloads_refused_total{reason="duplicate"} 2
stampvm_payloads_refused_total{ reason = "say \"hi\" \\ \n" , } 1
# HELP stampvm_mempool_payloads Payloads\nwaiting \\ here
# TYPE stampvm_mempool_payloads gauge
stampvm_mempool_payloads -1.5
# TYPE stampvm_block_verify_seconds histogram
stampvm_block_verify_seconds_bucket{le="1"} 3
stampvm_block_verify_seconds_bucket{le="0.1"} 1
stampvm_block_verify_seconds_bucket{le="+Inf"} 4
stampvm_block_verify_seconds_sum 2.5
stampvm_block_verify_seconds_count 4
stampvm_block_verify_seconds_bucket{method="a",le="0.5"} 2
stampvm_block_verify_seconds_bucket{method="a",le="+Inf"} 2
stampvm_block_verify_seconds_sum{method="a"} 0.75
# TYPE rpc_seconds summary
rpc_seconds{method="a",quantile="0.99"} 0.9
rpc_seconds{method="a",quantile="0.5"} 0.2
rpc_seconds_sum{method="a"} 3
rpc_seconds_count{method="a"} 10
"##;

/// Every sample kind comes out as the sub-message of its type, with escapes undone, histogram
/// lines grouped per label set (without `le`), buckets sorted, +Inf dropped but standing in for a
/// missing `_count`.
#[test]
fn parses_each_kind_of_family() {
    let verify_seconds = |pairs: &[(&str, &str)], count, sum, bucket| Metric {
        label: labels(pairs),
        histogram: Some(Histogram {
            sample_count: Some(count),
            sample_sum: Some(sum),
            bucket,
            ..Histogram::default()
        }),
        ..Metric::default()
    };
    let expected = vec![
        family(
            "rpc_seconds",
            "",
            MetricType::Summary,
            vec![Metric {
                label: labels(&[("method", "a")]),
                summary: Some(Summary {
                    sample_count: Some(10),
                    sample_sum: Some(3.0),
                    quantile: vec![
                        Quantile {
                            quantile: Some(0.5),
                            value: Some(0.2),
                        },
                        Quantile {
                            quantile: Some(0.99),
                            value: Some(0.9),
                        },
                    ],
                    ..Summary::default()
                }),
                ..Metric::default()
            }],
        ),
        family(
            "stampvm_block_verify_seconds",
            "",
            MetricType::Histogram,
            vec![
                verify_seconds(&[], 4, 2.5, vec![bucket(0.1, 1), bucket(1.0, 3)]),
                verify_seconds(&[("method", "a")], 2, 0.75, vec![bucket(0.5, 2)]),
            ],
        ),
        family(
            "stampvm_blocks_built_total",
            "Blocks built",
            MetricType::Counter,
            vec![counter(&[], 7.0)],
        ),
        family(
            "stampvm_mempool_payloads",
            "Payloads\nwaiting \\ here",
            MetricType::Gauge,
            vec![Metric {
                gauge: Some(Gauge { value: Some(-1.5) }),
                ..Metric::default()
            }],
        ),
        family(
            "stampvm_payloads_refused_total",
            "",
            MetricType::Counter,
            vec![
                counter(&[("reason", "duplicate")], 2.0),
                counter(&[("reason", "say \"hi\" \\ \n")], 1.0),
            ],
        ),
    ];
    let parsed = exposition::parse(HAND_WRITTEN);
    assert_eq!(parsed, expected);
    assert_eq!(check_families(&parsed), Ok(()));
}

/// Odd input never panics and never yields what the node rejects: unreadable lines vanish,
/// `chain` labels are dropped, duplicate label sets keep the first, colliding names are omitted.
#[test]
fn odd_input_is_skipped_and_output_stays_consistent() {
    let odd = r##"garbage line
# TYPE
# HELP 9bad help
bad-name 1
ok_total{a="unterminated} 1
ok_total{a="x"} notanumber
ok_total{a="x",a="y"} 1
ok_total{a="x"} 1 123 extra
ok_total{chain="C",a="x"} 5
ok_total{a="x"} 6
ok_total{a="é\q"} 2 1700000000000
foo_sum 1
# TYPE foo histogram
foo_bucket{le="1"} 1
foo_bucket{le="2",le="3"} 1
foo_count 1
# TYPE empty gauge
# TYPE hist_no_le histogram
hist_no_le_bucket 3
"##;
    let parsed = exposition::parse(odd);
    let untyped = |pairs: &[(&str, &str)], value| Metric {
        label: labels(pairs),
        untyped: Some(Untyped { value: Some(value) }),
        ..Metric::default()
    };
    let foo = Metric {
        histogram: Some(Histogram {
            sample_count: Some(1),
            sample_sum: Some(0.0),
            bucket: vec![bucket(1.0, 1)],
            ..Histogram::default()
        }),
        ..Metric::default()
    };
    assert_eq!(
        parsed,
        vec![
            family("foo", "", MetricType::Histogram, vec![foo]),
            family(
                "ok_total",
                "",
                MetricType::Untyped,
                vec![untyped(&[("a", "x")], 5.0), untyped(&[("a", "é\\q")], 2.0),]
            ),
        ]
    );
    // Every truncation of every input (at a char boundary) parses without panic, consistently.
    for text in [odd, HAND_WRITTEN] {
        for (end, _) in text.char_indices() {
            let families = exposition::parse(&text[..end]);
            assert_eq!(check_families(&families), Ok(()), "prefix of {end} bytes");
        }
    }
}

/// vectors.md §4, `vm.GatherResponse`: parsing the equivalent text and encoding it gives the
/// golden bytes (explicit `type = COUNTER`, nothing else set).
#[test]
fn gather_response_matches_the_wire_vector() {
    let text = "# HELP vm_blocks_accepted_total Blocks accepted\n\
                # TYPE vm_blocks_accepted_total counter\n\
                vm_blocks_accepted_total 3\n";
    let metric_families = exposition::parse(text);
    assert_eq!(
        metric_families,
        vec![family(
            "vm_blocks_accepted_total",
            "Blocks accepted",
            MetricType::Counter,
            vec![counter(&[], 3.0)],
        )]
    );
    let bytes = GatherResponse { metric_families }.encode_to_vec();
    assert_eq!(
        hex::encode(bytes),
        "0a3a0a18766d5f626c6f636b735f61636365707465645f746f74616c120f426c6f636b7320616363657074\
         65641800220b1a09090000000000000840"
    );
}

fn counter_value(metrics: &Metrics, name: &str) -> Option<f64> {
    let families = metrics.gather();
    let metric = find(&families, name)?.metric.first()?;
    metric.counter.as_ref()?.value
}

/// The installed recorder feeds `gather()`: an increment shows up with its help and type, and a
/// second `install()` sees the same values.
#[test]
fn installed_recorder_shows_in_gather() {
    let metrics = install();
    let before = counter_value(&metrics, BLOCKS_ACCEPTED_TOTAL).unwrap_or(0.0);
    ::metrics::counter!(BLOCKS_ACCEPTED_TOTAL).increment(2);
    let after = counter_value(&install(), BLOCKS_ACCEPTED_TOTAL).expect("counter gathered");
    assert!(after >= before + 2.0, "before {before}, after {after}");
    let families = metrics.gather();
    let accepted = find(&families, BLOCKS_ACCEPTED_TOTAL).unwrap();
    assert_eq!(accepted.help(), "Blocks accepted");
    assert_eq!(accepted.r#type(), MetricType::Counter);
    assert_eq!(check_families(&families), Ok(()));
}

/// Histograms render as Prometheus histograms with the configured buckets (not summaries), and a
/// `chain` label recorded by mistake never reaches the node.
#[test]
fn histograms_have_buckets_and_chain_labels_are_dropped() {
    let metrics = install();
    ::metrics::histogram!(BLOCK_VERIFY_SECONDS).record(0.0003);
    ::metrics::histogram!(GRPC_REQUEST_SECONDS, LABEL_METHOD => "Verify").record(0.02);
    ::metrics::counter!("stampvm_test_chain_label_total", "chain" => "X", "k" => "v").increment(1);
    let families = metrics.gather();
    let verify = find(&families, BLOCK_VERIFY_SECONDS).unwrap();
    assert_eq!(verify.r#type(), MetricType::Histogram);
    let histogram = verify.metric[0].histogram.as_ref().unwrap();
    assert!(histogram.sample_count() >= 1);
    let bounds: Vec<f64> = histogram.bucket.iter().map(|b| b.upper_bound()).collect();
    assert_eq!(bounds, FAST_BUCKETS);
    let grpc = find(&families, GRPC_REQUEST_SECONDS).unwrap();
    assert!(grpc
        .metric
        .iter()
        .any(|m| m.label == labels(&[(LABEL_METHOD, "Verify")])));
    let mistaken = find(&families, "stampvm_test_chain_label_total").unwrap();
    assert_eq!(mistaken.metric[0].label, labels(&[("k", "v")]));
    assert_eq!(check_families(&families), Ok(()));
}

/// The scrape endpoint serves the same text as `render()` and stops with the shutdown signal.
#[tokio::test]
async fn scrape_endpoint_serves_the_exposition() {
    let metrics = install();
    ::metrics::counter!(BLOCKS_BUILT_TOTAL).increment(1);
    let shutdown = Shutdown::new();
    let addr = serve_scrape("127.0.0.1:0".parse().unwrap(), metrics, shutdown.clone())
        .await
        .unwrap();
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert!(response.text().await.unwrap().contains(BLOCKS_BUILT_TOTAL));
    shutdown.trigger();
}
