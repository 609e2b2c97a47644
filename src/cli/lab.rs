//! `tenantctl lab serve` and `tenantctl lab init`: the Microsoft Graph emulator.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::EXIT_OK;
use crate::lab::{
    FaultRates, InitOptions, LAB_FILE, LabOptions, LabServer, RetryAfterMode, Seed, TlsSource, WriteBudget, init,
    is_unseeded, seed,
};

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Serve the lab until Ctrl-C or SIGTERM. The first line on standard output is its base URL, for
    /// both the login URL (the authority) and the Graph URL. A missing or empty state folder is
    /// seeded with the example lab first; without --state the example lab is served from a temporary
    /// folder.
    Serve(Box<ServeArgs>),
    /// Generate a lab state directory and matching manifests (in DIR/manifests), deterministically.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// State directory (lab.json, tenants/…); every change is written to it. Seeded when missing or
    /// empty. Without it, the example lab is served from a temporary folder removed at exit.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Seed a missing or empty state folder with an empty lab (one app, no tenants) rather than the
    /// example lab.
    #[arg(long)]
    pub empty: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "IP:PORT")]
    pub addr: SocketAddr,
    /// Listen on a non-loopback address without TLS, where tokens would cross the network in clear.
    #[arg(long)]
    pub allow_remote: bool,
    /// Serve HTTPS, as Microsoft's token libraries require, with a certificate made once into
    /// STATE/tls/ (trust STATE/tls/ca.pem) unless --tls-cert and --tls-key are given.
    #[arg(long)]
    pub tls: bool,
    /// PEM certificate chain to serve HTTPS with (implies --tls; needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Delay added before handling every request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Tenants kept in memory at most (the least recently used are read again from the state folder
    /// when needed): bounds the lab's memory whatever the number of tenants.
    #[arg(long, default_value_t = crate::lab::DEFAULT_RESIDENT_TENANTS, value_name = "N")]
    pub resident_tenants: usize,
    /// Items per page of a list read without $top (Intune: 25).
    #[arg(long, default_value_t = crate::lab::DEFAULT_PAGE_SIZE, value_name = "N")]
    pub page_size: usize,
    /// The largest $top honoured.
    #[arg(long, default_value_t = crate::lab::DEFAULT_MAX_TOP, value_name = "N")]
    pub max_top: usize,
    /// Policies per page of a list read with $expand=settings, whatever $top asks (Intune has been
    /// seen paging them one or two at a time).
    #[arg(long, default_value_t = crate::lab::DEFAULT_EXPANDED_PAGE_SIZE, value_name = "N")]
    pub expanded_page_size: usize,
    /// Policy writes allowed per tenant and app within the write window (Intune: 100); 0 is unlimited.
    #[arg(long, default_value_t = WriteBudget::INTUNE_PER_APP.writes, value_name = "N")]
    pub write_budget: u32,
    /// Custom detection rules that may be created per tenant and app in a minute (Defender: about
    /// 10); 0 is unlimited.
    #[arg(long, default_value_t = WriteBudget::DETECTION_CREATES_PER_APP.writes, value_name = "N")]
    pub detection_creates_per_minute: u32,
    /// The write budget's sliding window (Intune: 20 s).
    #[arg(long, default_value_t = 20_000, value_name = "MS")]
    pub write_window_ms: u64,
    /// Whether 429 responses carry Retry-After: always, never, alternate.
    #[arg(long, default_value = "always", value_parser = parse_retry_after, value_name = "MODE")]
    pub retry_after: RetryAfterMode,
    /// Probability that a Graph request answers 503 before doing anything.
    #[arg(long = "fault-5xx", default_value_t = 0.0, value_parser = parse_rate, value_name = "RATE")]
    pub fault_server_error: f64,
    /// Probability that a Graph request's connection is dropped before anything is done.
    #[arg(long = "fault-reset", default_value_t = 0.0, value_parser = parse_rate, value_name = "RATE")]
    pub fault_reset: f64,
    /// Probability that a write commits and its response is then lost (connection dropped).
    #[arg(long = "fault-lost-response", default_value_t = 0.0, value_parser = parse_rate, value_name = "RATE")]
    pub fault_lost_response: f64,
    /// Probability that a Graph request answers 429 (Retry-After: 1, as --retry-after says) before
    /// anything is done.
    #[arg(long = "fault-throttle", default_value_t = 0.0, value_parser = parse_rate, value_name = "RATE")]
    pub fault_throttle: f64,
    /// Tenant whose every Graph request answers 503, as an unreachable tenant would. Repeatable.
    #[arg(long = "failing-tenant", value_name = "TENANT_ID")]
    pub failing_tenants: Vec<String>,
    /// Tenant whose configuration-policy writes Intune's Multi Admin Approval holds: a write answers
    /// "approval required" until an approver approves the request it files (`POST
    /// /_lab/approvals/{tenant}/{request}/approve`). Repeatable.
    #[arg(long = "require-approval", value_name = "TENANT_ID")]
    pub approval_tenants: Vec<String>,
    /// Withhold from a tenant an application permission (left out of its tokens:
    /// `TENANT_ID=DeviceManagementRBAC.ReadWrite.All`) or a licence (a SKU part number or service plan
    /// name left out of its subscriptions: `TENANT_ID=WINDEFATP`). Repeatable.
    #[arg(long = "withhold", value_name = "TENANT_ID=NAME", value_parser = parse_withheld)]
    pub withheld: Vec<(String, String)>,
    /// Seed of the fault generator, to replay a run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create (must be empty or absent).
    pub dir: PathBuf,
    /// Number of tenants.
    #[arg(long, value_name = "N")]
    pub tenants: usize,
    /// Policies per tenant (owned, drifted and unmanaged together).
    #[arg(long, default_value_t = InitOptions::default().policies, value_name = "M")]
    pub policies: usize,
    /// Same seed, same files.
    #[arg(long, default_value_t = InitOptions::default().seed)]
    pub seed: u64,
}

pub fn run(args: &LabArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        LabCommand::Serve(serve_args) => serve(serve_args, out, err),
        LabCommand::Init(init_args) => {
            let options =
                InitOptions { tenants: init_args.tenants, policies: init_args.policies, seed: init_args.seed };
            let summary = init(&init_args.dir, &options)?;
            writeln!(out, "{summary}")?;
            Ok(EXIT_OK)
        }
    }
}

fn serve(args: &ServeArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => Some(TlsSource::Files { certificate: certificate.clone(), key: key.clone() }),
        _ if args.tls => Some(TlsSource::Generated),
        _ => None,
    };
    if !args.addr.ip().is_loopback() && tls.is_none() && !args.allow_remote {
        bail!(
            "refusing to listen on {} without TLS: tokens and secrets would cross the network in clear \
             (add --tls, use a loopback address, or --allow-remote)",
            args.addr
        );
    }
    // Without --state, a temporary copy of the example lab, removed when the lab stops.
    let temporary = match &args.state {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("tenantctl-lab-").tempdir()?),
    };
    let state = match (&args.state, &temporary) {
        (Some(state), _) => state.clone(),
        (None, Some(temporary)) => temporary.path().to_path_buf(),
        (None, None) => bail!("no state folder"),
    };
    if is_unseeded(&state)? {
        let seeded = seed(&state, if args.empty { Seed::Empty } else { Seed::Example })?;
        writeln!(err, "lab: {seeded}")?;
    } else if !state.join(LAB_FILE).is_file() {
        bail!(
            "{} is not a lab state folder (it has no {LAB_FILE}): give an empty or new folder to seed one, \
             or make one with `tenantctl lab init DIR --tenants N`",
            state.display()
        );
    }
    let options = LabOptions {
        state_dir: state.clone(),
        latency: Duration::from_millis(args.latency_ms),
        page_size: args.page_size,
        max_top: args.max_top,
        expanded_page_size: Some(args.expanded_page_size),
        detection_create_budget: (args.detection_creates_per_minute > 0)
            .then(|| WriteBudget { writes: args.detection_creates_per_minute, window: Duration::from_secs(60) }),
        write_budget: (args.write_budget > 0)
            .then(|| WriteBudget { writes: args.write_budget, window: Duration::from_millis(args.write_window_ms) }),
        retry_after: args.retry_after,
        faults: FaultRates {
            server_error: args.fault_server_error,
            connection_reset: args.fault_reset,
            lost_response: args.fault_lost_response,
            throttle: args.fault_throttle,
        },
        failing_tenants: args.failing_tenants.clone(),
        approval_tenants: args.approval_tenants.clone(),
        withheld: args.withheld.iter().fold(Default::default(), |mut map, (tenant, name)| {
            map.entry(tenant.clone()).or_insert_with(Vec::new).push(name.clone());
            map
        }),
        seed: args.seed,
        tls,
        resident_tenants: args.resident_tenants,
        ..LabOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let server = LabServer::start(options, args.addr).await?;
        writeln!(out, "{}", server.url())?;
        out.flush()?;
        let kept = if temporary.is_some() { "a temporary copy, removed at exit" } else { "changes are kept" };
        writeln!(err, "lab: serving {} ({kept}; Ctrl-C to stop)", state.display())?;
        if let Some(ca) = server.ca_file() {
            writeln!(
                err,
                "lab: clients must trust the lab's CA {} (e.g. SSL_CERT_FILE or REQUESTS_CA_BUNDLE)",
                ca.display()
            )?;
        }
        let signal = shutdown_signal().await;
        server.shutdown().await;
        signal?;
        Ok(EXIT_OK)
    })
}

/// Ctrl-C, or SIGTERM (how service managers and `kill` stop a process).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

fn parse_retry_after(text: &str) -> Result<RetryAfterMode, String> {
    text.parse()
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) { Ok(rate) } else { Err(format!("{rate} is not a probability between 0 and 1")) }
}

fn parse_withheld(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((tenant, name)) if !tenant.trim().is_empty() && !name.trim().is_empty() => {
            Ok((tenant.trim().to_string(), name.trim().to_string()))
        }
        _ => Err(format!("`{text}` is not TENANT_ID=NAME (a permission or a licence)")),
    }
}
