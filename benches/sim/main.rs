//! orglake-sim: an AWS-scale simulator for benchmarks (not for the correctness tests, which
//! run on moto). It serves the Organizations, STS, EC2 and IAM calls orglake and the older
//! scripts make, from an organization captured from moto (`--org-file`, served as it is) or
//! rendered from such a capture at any size (`--capture` with `--accounts`), with AWS's
//! latencies, token buckets, credential-report generation times and page sizes.
//!
//! It prints `listening on PORT` once ready. `GET /__sim/stats` answers its calls,
//! throttles, CPU time and how late its latency timers fired (a saturated simulator fires
//! them late: such a run is invalid); `GET /__sim/truth` the rows a full scan must find and
//! the floor of the scan.

mod floor;
mod generate;
mod limits;
mod model;
mod serve;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use serde_json::json;

use crate::serve::{Call, Sim};

/// The simulator's command line.
#[derive(Parser, Debug)]
#[command(name = "orglake-sim")]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve this capture as it is (no latency or throttling unless --limits aws).
    #[arg(long, conflicts_with = "capture")]
    org_file: Option<String>,
    /// Render an organization from this capture.
    #[arg(long)]
    capture: Option<String>,
    /// Member accounts of the rendered organization.
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// Regions per account.
    #[arg(long, default_value_t = 17)]
    regions: usize,
    /// Seed of the rendered organization.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Shortest and longest credential-report generation, seconds (skewed towards short).
    #[arg(long, default_value = "2,60")]
    report_seconds: String,
    /// `aws` (latency and throttling) or `none`; default: aws for a rendered org.
    #[arg(long)]
    limits: Option<String>,
    /// Every latency multiplied by this.
    #[arg(long, default_value_t = 1.0)]
    latency_scale: f64,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let (org, default_limits) = match (&args.org_file, &args.capture) {
        (Some(file), _) => (model::Org::load(file)?, limits::Limits::none()),
        (None, Some(capture)) => {
            let capture = model::Org::load(capture)?;
            let (lo, hi) = args
                .report_seconds
                .split_once(',')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or("--report-seconds takes MIN,MAX")?;
            let shape = generate::Shape {
                accounts: args.accounts,
                regions: args.regions,
                seed: args.seed,
                report_seconds: (lo, hi),
            };
            (generate::generate(&capture, &shape)?, limits::Limits::aws())
        }
        (None, None) => return Err("give --org-file or --capture".into()),
    };
    let limits = match args.limits.as_deref() {
        None => default_limits,
        Some("aws") => limits::Limits::aws(),
        Some("none") => limits::Limits::none(),
        Some(other) => return Err(format!("--limits is aws or none, not {other}")),
    }
    .scaled(args.latency_scale);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(serve_forever(Arc::new(Sim::new(org, limits)), args.port))
}

async fn serve_forever(sim: Arc<Sim>, port: u16) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "listening on {}",
        listener.local_addr().map_err(|e| e.to_string())?.port()
    );
    let started = Instant::now();
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let sim = sim.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(sim.clone(), request, started));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    sim: Arc<Sim>,
    request: Request<hyper::body::Incoming>,
    started: Instant,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if parts.method == hyper::Method::GET {
        let answer = match parts.uri.path() {
            "/__sim/stats" => stats(&sim, started),
            "/__sim/truth" => truth(&sim),
            _ => json!({"error": "unknown path"}),
        };
        return Ok(Response::new(Full::new(Bytes::from(answer.to_string()))));
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let authorization = header("authorization");
    // Credential=AKID/DATE/REGION/SERVICE/aws4_request
    let scope: Vec<&str> = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split([',', ' ']).next())
        .unwrap_or_default()
        .split('/')
        .collect();
    let mut call = Call {
        access_key: scope.first().unwrap_or(&"").to_string(),
        region: scope.get(2).unwrap_or(&"us-east-1").to_string(),
        service: scope.get(3).unwrap_or(&"").to_string(),
        ..Call::default()
    };
    let target = header("x-amz-target");
    if !target.is_empty() {
        call.action = target.rsplit('.').next().unwrap_or_default().to_string();
        call.json = serde_json::from_slice(&body).unwrap_or_default();
    } else {
        call.params = url::form_urlencoded::parse(&body).into_owned().collect();
        call.action = call.params.get("Action").cloned().unwrap_or_default();
    }
    let answer = sim.answer(call).await;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static(answer.content_type),
    );
    Ok(response)
}

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks of 1/100 s).
    (ticks(11) + ticks(12)) / 100.0
}

fn stats(sim: &Sim, started: Instant) -> serde_json::Value {
    let lateness = sim.stats.lateness_ms.lock().unwrap().clone();
    let timers: u64 = lateness.iter().sum();
    let quantile = |q: f64| {
        let target = (timers as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in lateness.iter().enumerate() {
            seen += n;
            if seen >= target && target > 0 {
                return ms;
            }
        }
        0
    };
    let wall = started.elapsed().as_secs_f64();
    let calls = sim.stats.calls.load(Ordering::Relaxed);
    json!({
        "calls": calls,
        "throttled": sim.stats.throttled.load(Ordering::Relaxed),
        "per_action": *sim.stats.per_action.lock().unwrap(),
        "cpu_s": cpu_seconds(),
        "wall_s": wall,
        "calls_per_s": calls as f64 / wall.max(1e-9),
        "timer_late_p50_ms": quantile(0.50),
        "timer_late_p99_ms": quantile(0.99),
        "timer_late_max_ms": lateness.iter().rposition(|&n| n > 0).unwrap_or(0),
    })
}

fn truth(sim: &Sim) -> serde_json::Value {
    let org = &sim.org;
    let in_scope: Vec<&model::Account> = org
        .accounts
        .iter()
        .filter(|a| a.report.is_some() || !a.active())
        .collect();
    let in_scope: Vec<&model::Account> = in_scope
        .into_iter()
        .filter(|a| a.id() != org.management_account())
        .collect();
    let top_ous: Vec<&str> = org
        .ous
        .iter()
        .filter(|o| o.parent == org.root["Id"].as_str().unwrap_or_default())
        .filter_map(|o| o.raw["Id"].as_str())
        .collect();
    json!({
        "rows": generate::truth(org),
        "floor": floor::floor(org, &in_scope, &sim.limits),
        "top_ous": top_ous,
        "instances_per_account": org.accounts.iter().map(|a| a.instances()).max(),
        "regions": org.regions.iter().filter_map(|r| model::text_of(r, "regionName")).collect::<Vec<_>>(),
        // Seed 002 polls each account's report once a minute, one account after another.
        "seed_report_wait_s": in_scope
            .iter()
            .filter(|a| a.active())
            .map(|a| 60.0 * (a.report_generation.as_secs_f64() / 60.0).ceil().max(1.0))
            .sum::<f64>(),
    })
}
