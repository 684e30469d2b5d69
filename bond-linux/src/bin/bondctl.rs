//! `bondctl`: talk to a running `bondd`.
//!
//! ```text
//! bondctl [--name NAME] [--control SOCKET] status [--json] | set OPTION VALUE
//!         | add PORT | remove PORT | active PORT
//!         | prio PORT N | queue_id PORT N | actor_port_prio PORT N | marker PORT
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use bond_linux::control::{self, Request};
use clap::{Parser, Subcommand};

/// Query or change a bond run by bondd.
#[derive(Debug, Parser)]
#[command(name = "bondctl", version)]
struct Args {
    /// The bond's name (selects the default control socket /run/bondd/NAME.sock).
    #[arg(long, default_value = "bond0")]
    name: String,
    /// The control socket, if not the default.
    #[arg(long)]
    control: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the /proc/net/bonding text (or JSON).
    Status {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Change an option, as writing /sys/class/net/NAME/bonding/OPTION would.
    Set {
        /// Option name, e.g. miimon.
        option: String,
        /// New value, e.g. 200 (may start with '-', so bad values reach the daemon's checks).
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Add a port.
    Add {
        /// Interface name.
        port: String,
    },
    /// Remove a port (its MAC is restored).
    Remove {
        /// Interface name.
        port: String,
    },
    /// Make PORT the active port (active-backup).
    Active {
        /// Interface name.
        port: String,
    },
    /// Set PORT's failover priority (higher wins), as `ip link set PORT type bond_slave prio N`.
    Prio {
        /// Interface name.
        port: String,
        /// The priority (may be negative).
        #[arg(allow_hyphen_values = true)]
        prio: i32,
    },
    /// Set PORT's queue_id, as writing "PORT:N" to /sys/class/net/NAME/bonding/queue_id.
    #[command(name = "queue_id")]
    QueueId {
        /// Interface name.
        port: String,
        /// The queue id (0 to 65535).
        queue_id: u16,
    },
    /// Set PORT's 802.3ad actor port priority, as
    /// `ip link set PORT type bond_slave actor_port_prio N`.
    #[command(name = "actor_port_prio")]
    ActorPortPrio {
        /// Interface name.
        port: String,
        /// The priority (1 to 65535).
        prio: u16,
    },
    /// Send one 802.3ad Marker PDU on PORT and print its transaction ID; whether the partner
    /// answered, and how fast, shows in `status --json` (`lacp.last_marker` of the port).
    Marker {
        /// Interface name.
        port: String,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let path = args
        .control
        .unwrap_or_else(|| control::default_socket_path(&args.name));
    let request = match args.command {
        Command::Status { json } => Request::Status { json },
        Command::Set { option, value } => Request::Set { option, value },
        Command::Add { port } => Request::Add { port },
        Command::Remove { port } => Request::Remove { port },
        Command::Active { port } => Request::Active { port },
        Command::Prio { port, prio } => Request::Prio { port, prio },
        Command::QueueId { port, queue_id } => Request::QueueId { port, queue_id },
        Command::ActorPortPrio { port, prio } => Request::ActorPortPrio { port, prio },
        Command::Marker { port } => Request::Marker { port },
    };
    let response = match control::request(&path, &request) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bondctl: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !response.ok {
        eprintln!(
            "bondctl: {}",
            response.error.as_deref().unwrap_or("request refused")
        );
        return ExitCode::FAILURE;
    }
    if let Some(id) = response.transaction_id {
        println!("{id}");
    }
    if let Some(text) = &response.text {
        print!("{text}");
    }
    if let Some(status) = &response.status {
        match serde_json::to_string_pretty(status) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("bondctl: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
