//! The `tenantctl` command line: a thin shell over the library. Output goes to injected writers.

mod access;
mod apply;
mod apply_report;
mod cache_dir;
mod cases;
mod connect;
mod detections;
mod exceptions;
mod export;
mod fleet;
mod generate;
mod hunt;
mod incidents;
mod incidents_update;
mod lab;
mod notify;
mod operator;
mod pipeline;
mod plan;
mod plan_spool;
mod rollback;
mod saved_plan;
mod tenants;
mod tenants_add;
mod validate;
mod views;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success, nothing to change.
pub const EXIT_OK: u8 = 0;
/// Exit code: error (invalid input, failed command).
pub const EXIT_ERROR: u8 = 1;
/// Exit code: changes present (`plan --detailed-exitcode`, `drift`).
pub const EXIT_CHANGES: u8 = 2;
/// Exit code: partial — some tenants could not be read.
pub const EXIT_PARTIAL: u8 = 3;
/// Exit code: interrupted (Ctrl-C, SIGTERM), as shells report 128 + SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Endpoint security policy as code for many Microsoft 365 tenants.
#[derive(Debug, Parser)]
#[command(name = "tenantctl", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate manifests; report every error with file:line:column.
    Validate(validate::ValidateArgs),
    /// Show what would change in each tenant.
    Plan(plan::PlanArgs),
    /// Make the tenants match the manifests (or carry out a saved plan).
    Apply(apply::ApplyArgs),
    /// Return a profile's tenants (all, one wave, or named ones) to the revision of a git ref; held
    /// there until the manifests change.
    Rollback(Box<rollback::RollbackArgs>),
    /// Report drift: a plan in audit mode for every profile; exit 2 when any tenant drifted.
    Drift(plan::DriftArgs),
    /// Write a tenant's live policies as manifests.
    Export(export::ExportArgs),
    /// One incident queue across tenants: severity, status, time filters; a tenant column.
    Incidents(Box<incidents::IncidentsArgs>),
    /// Run one advanced hunting query (KQL) in every tenant; rows merged with a tenant column.
    Hunt(hunt::HuntArgs),
    /// Cases as code: incidents of several tenants worked as one; list them with their members'
    /// live state, write them onto the incidents, close them.
    Cases(Box<cases::CasesArgs>),
    /// Every tenant's Intune managed devices in one list: compliance, OS, last sync, owner.
    Devices(Box<views::DevicesArgs>),
    /// Every tenant's risky users (Entra ID Protection) in one list: risk level, state, last update.
    Identities(Box<views::IdentitiesArgs>),
    /// Who holds which Intune and Defender XDR role in every tenant: members and scopes by name,
    /// managed or not.
    Access(access::AccessArgs),
    /// Every PolicyException: tenants, object, owner, reason, days left (from the manifests alone).
    Exceptions(exceptions::ExceptionsArgs),
    /// Custom detection rules: preview how many alerts new and changed rules would raise.
    Detections(detections::DetectionsArgs),
    /// Onboarding: check each tenant's consent, permissions and licences; add a tenant.
    Tenants(tenants::TenantsArgs),
    /// Write the JSON Schemas of every kind (for editors such as yaml-language-server).
    Schema(generate::OutArgs),
    /// Write the CustomResourceDefinitions of every kind.
    Crds(generate::OutArgs),
    /// The lab: a Microsoft Graph emulator for tests, demos and benchmarks.
    Lab(lab::LabArgs),
    /// Run the Kubernetes operator: reconcile the cluster's Tenants continuously (JSON logs).
    Operator(operator::OperatorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell, for example `bash`: `source <(tenantctl completions bash)`.
    pub shell: clap_complete::Shell,
}

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate(args) => validate::run(&args, out, err),
        Command::Plan(args) => plan::plan(&args, out, err),
        Command::Apply(args) => apply::run(&args, out, err),
        Command::Rollback(args) => rollback::run(&args, out, err),
        Command::Drift(args) => plan::drift(&args, out, err),
        Command::Export(args) => export::run(&args, out, err),
        Command::Incidents(args) => incidents::run(&args, out, err),
        Command::Hunt(args) => hunt::run(&args, out, err),
        Command::Devices(args) => views::devices(&args, out, err),
        Command::Cases(args) => cases::run(&args, out, err),
        Command::Identities(args) => views::identities(&args, out, err),
        Command::Tenants(args) => tenants::run(&args, out, err),
        Command::Detections(args) => detections::run(&args, out, err),
        Command::Access(args) => access::run(&args, out, err),
        Command::Exceptions(args) => exceptions::run(&args, out, err),
        Command::Schema(args) => generate::schema(&args, out, err),
        Command::Crds(args) => generate::crds(&args, out, err),
        Command::Lab(args) => lab::run(&args, out, err),
        Command::Operator(args) => operator::run(&args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "tenantctl", out);
            Ok(EXIT_OK)
        }
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to standard output with 0; a usage error is an error (1), never
            // clap's 2, which means "changes present" here.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    if matches!(cli.command, Command::Operator(_)) {
        // A service: JSON lines at info level, for log collectors.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
    } else {
        // Logs go to standard error, off unless RUST_LOG asks for them: standard output carries results.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    }
    // Not locked for the whole run: worker threads log to standard error while the command runs.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match run(cli, &mut out, &mut err) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let _ = writeln!(err, "error: {}", error_chain(&error));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// An error and its causes on one line, each cause said once: many errors already include their
/// cause's text in their own.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use (os error 98)");
        let error = anyhow::Error::new(io).context("cannot listen on 127.0.0.1:8080");
        assert_eq!(error_chain(&error), "cannot listen on 127.0.0.1:8080: Address already in use (os error 98)");
        let twice = anyhow::anyhow!("bind: Address already in use (os error 98)")
            .context("cannot start the lab: bind: Address already in use (os error 98)");
        assert_eq!(error_chain(&twice), "cannot start the lab: bind: Address already in use (os error 98)");
    }
}
