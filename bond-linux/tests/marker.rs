//! `bondctl marker` between two bondds in 802.3ad over veth pairs (needs root; see `support`):
//! one side sends Marker Information PDUs, the other's Marker Responder answers, and the
//! sender's `status --json` shows each request matched to its answer.

mod support;

use std::time::{Duration, Instant};

use support::{mac_bytes, pcap_frames, port, Lab};

const OPTIONS: &str = "mode=802.3ad miimon=100 lacp_rate=fast";

fn all_in_use(s: &serde_json::Value) -> bool {
    s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["lacp"]["collecting"] == true && p["lacp"]["distributing"] == true)
}

/// `bondctl marker PORT` on daemon `i`: the transaction ID it printed, or its error text.
fn marker(lab: &Lab, i: usize, port: &str) -> Result<u32, String> {
    let out = lab.bondctl(i, &["marker", port]);
    if out.status.success() {
        let text = String::from_utf8(out.stdout).unwrap();
        Ok(text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("bondctl marker printed {text:?}: {e}")))
    } else {
        Err(String::from_utf8(out.stderr).unwrap().trim().to_string())
    }
}

fn counter(s: &serde_json::Value, port_name: &str, name: &str) -> u64 {
    port(s, port_name)["lacp"]["stats"][name].as_u64().unwrap()
}

#[test]
fn marker_between_two_bondds_is_answered_and_matched() {
    let Some(mut lab) = Lab::new("marker_between_two_bondds_is_answered_and_matched") else {
        return;
    };
    let a = lab.netns("A");
    let z = lab.netns("Z");
    lab.veth(&a, "a0", &z, "z0");
    lab.veth(&a, "a1", &z, "z1");
    let pcap = lab.dir.join("a.pcap");
    let pcap_arg = pcap.to_str().unwrap().to_string();
    lab.start_bondd(&a, "bond0", OPTIONS, &["a0", "a1"], &["--pcap", &pcap_arg]);
    lab.start_bondd(&z, "bond0", OPTIONS, &["z0", "z1"], &[]);
    for i in 0..2 {
        lab.wait_status(i, Duration::from_secs(15), "both ports in use", all_in_use);
    }
    let s = lab.status_json(0);
    assert!(port(&s, "a0")["lacp"]["last_marker"].is_null(), "{s:#}");

    // One marker on a0: transaction 1, answered by Z's responder on z0, matched on A.
    let id = marker(&lab, 0, "a0").expect("marker on a0");
    assert_eq!(id, 1, "transaction IDs count from 1 per port");
    let s = lab.wait_status(0, Duration::from_secs(5), "a0's marker answered", |s| {
        port(s, "a0")["lacp"]["last_marker"]["answered"] == true
    });
    let m = &port(&s, "a0")["lacp"]["last_marker"];
    assert_eq!(m["transaction_id"], id, "{s:#}");
    assert_eq!(m["sent"], true, "{s:#}");
    let rtt = m["round_trip_us"].as_u64().expect("a round-trip time");
    assert!(rtt > 0 && rtt < 1_000_000, "round trip {rtt} µs");
    eprintln!("marker a0 -> z0 -> a0: transaction {id}, round trip {rtt} µs");
    assert_eq!(counter(&s, "a0", "marker_tx"), 1);
    assert_eq!(counter(&s, "a0", "marker_resp_rx"), 1);
    assert_eq!(counter(&s, "a1", "marker_tx"), 0);
    assert!(port(&s, "a1")["lacp"]["last_marker"].is_null());
    assert_eq!(s["lacp"]["stats"]["marker_tx"], 1);
    let sz = lab.status_json(1);
    assert_eq!(counter(&sz, "z0", "marker_rx"), 1, "{sz:#}");
    assert_eq!(counter(&sz, "z0", "marker_resp_tx"), 1, "{sz:#}");
    assert_eq!(counter(&sz, "z0", "marker_tx"), 0, "{sz:#}");
    assert!(
        all_in_use(&s) && all_in_use(&sz),
        "markers leave LACP alone"
    );

    // The request on the wire, from a0's pcap: a0's own MAC, Requester_Port = a0's actor port,
    // Requester_System = A's actor system, the transaction ID; and Z's response echoing them.
    let a0 = port(&s, "a0");
    let src = mac_bytes(a0["perm_hwaddr"].as_str().unwrap());
    let mut echo = Vec::new();
    echo.extend((a0["lacp"]["actor"]["port"].as_u64().unwrap() as u16).to_be_bytes());
    echo.extend(mac_bytes(a0["lacp"]["actor"]["system"].as_str().unwrap()));
    echo.extend(id.to_be_bytes());
    let bytes = std::fs::read(&pcap).unwrap();
    let frames = pcap_frames(&bytes);
    let request = frames
        .iter()
        .position(|f| is_marker(f, 0x01) && f[6..12] == src[..] && f[18..30] == echo[..])
        .expect("the Marker Information PDU is not in A's pcap");
    let response = frames
        .iter()
        .position(|f| is_marker(f, 0x02) && f[6..12] != src[..] && f[18..30] == echo[..])
        .expect("Z's Marker Response is not in A's pcap");
    assert!(request < response);
    assert_eq!(frames[request].len(), 124);

    // The same port again: the next ID. The other port: its own counter.
    assert_eq!(marker(&lab, 0, "a0"), Ok(2));
    let first_on_a1 = Instant::now();
    assert_eq!(marker(&lab, 0, "a1"), Ok(1));
    let s = lab.wait_status(0, Duration::from_secs(5), "both answered", |s| {
        ["a0", "a1"]
            .iter()
            .all(|p| port(s, p)["lacp"]["last_marker"]["answered"] == true)
    });
    assert_eq!(port(&s, "a0")["lacp"]["last_marker"]["transaction_id"], 2);
    assert_eq!(port(&s, "a1")["lacp"]["last_marker"]["transaction_id"], 1);

    // A burst: at most three leave a port per second, so the fourth on a1 (counting the one
    // above) is held; it goes when bondd's timer says so (and is answered), and one asked for
    // meanwhile is refused with the core's words.
    let start = Instant::now();
    let mut last = 0;
    let mut refused = Vec::new();
    for _ in 0..5 {
        match marker(&lab, 0, "a1") {
            Ok(id) => last = id,
            Err(e) => refused.push(e),
        }
    }
    let burst = start.elapsed();
    let since_first_on_a1 = first_on_a1.elapsed();
    for e in &refused {
        assert!(
            e.contains("could not send a marker: marker") && e.contains("still waiting"),
            "{e}"
        );
    }
    let s = lab.wait_status(0, Duration::from_secs(5), "the burst answered", |s| {
        let m = &port(s, "a1")["lacp"]["last_marker"];
        m["transaction_id"] == last && m["answered"] == true
    });
    eprintln!(
        "burst of 5 in {burst:.1?}: {} refused; last ({last}) answered after {} µs",
        refused.len(),
        port(&s, "a1")["lacp"]["last_marker"]["round_trip_us"]
    );
    assert_eq!(counter(&s, "a1", "marker_tx"), u64::from(last));
    // a1's first marker left after `first_on_a1`: until a second after that, the fourth is
    // held, and the fifth is refused.
    if since_first_on_a1 < Duration::from_millis(950) {
        assert!(
            !refused.is_empty(),
            "five markers within {burst:?}, none held"
        );
    }

    // Refusals, verbatim from bondd.
    assert_eq!(
        marker(&lab, 0, "nosuch"),
        Err("bondctl: nosuch is not a port of bond0".to_string())
    );
    support::run_ok("ip", &["-n", &a, "link", "set", "a1", "down"]);
    lab.wait_status(0, Duration::from_secs(5), "a1 down", |s| {
        port(s, "a1")["link"] == "down"
    });
    assert_eq!(
        marker(&lab, 0, "a1"),
        Err("bondctl: could not send a marker: the port's link is down".to_string())
    );
}

#[test]
fn marker_is_refused_outside_802_3ad() {
    let Some(mut lab) = Lab::new("marker_is_refused_outside_802_3ad") else {
        return;
    };
    let a = lab.netns("A");
    let z = lab.netns("Z");
    lab.veth(&a, "a0", &z, "z0");
    lab.start_bondd(&a, "bond0", "mode=active-backup miimon=100", &["a0"], &[]);
    assert_eq!(
        marker(&lab, 0, "a0"),
        Err(
            "bondctl: could not send a marker: markers need mode 802.3ad, the bond is in mode \
             active-backup"
                .to_string()
        )
    );
}

/// A Slow Protocols Marker frame with this TLV type.
fn is_marker(f: &[u8], tlv: u8) -> bool {
    f.len() >= 30
        && f[..6] == [0x01, 0x80, 0xc2, 0, 0, 0x02]
        && f[12..17] == [0x88, 0x09, 0x02, 0x01, tlv]
}
