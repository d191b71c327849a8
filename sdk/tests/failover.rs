//! Fail-over and error mapping against tiny local HTTP servers that answer fixed replies
//! (a sealed node, a rate-limiting node, a dead address). The engine itself is exercised
//! against a real `bao` in `server.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use vault_crypto_sdk::{Client, Config, Error, RetryPolicy};

/// A one-reply-per-connection HTTP/1.1 server on a loopback port; counts requests.
struct FakeNode {
    addr: String,
    hits: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(head)
}

impl FakeNode {
    fn start(status: u16, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { break };
                if read_request(&mut s).is_none() {
                    continue;
                }
                h.fetch_add(1, Ordering::SeqCst);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes());
            }
        });
        FakeNode { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An address where nothing listens (bound, then closed).
fn dead_address() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let a = format!("http://{}", l.local_addr().expect("addr"));
    drop(l);
    a
}

fn fast_retry(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(n)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(20))
}

fn client(addrs: Vec<String>, n: u32) -> Client {
    Client::new(
        Config::new(addrs)
            .with_token("t")
            .with_retry(fast_retry(n))
            .with_connect_timeout(Duration::from_secs(2)),
    )
    .expect("client")
}

const WALLETS: &str = r#"{"data":{"keys":["a","b"]}}"#;

#[tokio::test]
async fn a_dead_first_node_fails_over_to_the_next() {
    let good = FakeNode::start(200, WALLETS);
    let c = client(vec![dead_address(), good.addr.clone()], 3);
    assert_eq!(c.wallets().list().await.expect("list"), ["a", "b"]);
    assert_eq!(good.hits(), 1);
    // The node that answered is remembered: the next call goes straight to it.
    c.wallets().list().await.expect("list again");
    assert_eq!(good.hits(), 2);
}

#[tokio::test]
async fn sealed_and_rate_limited_nodes_are_skipped() {
    let sealed = FakeNode::start(503, r#"{"errors":["Vault is sealed"]}"#);
    let limited = FakeNode::start(429, r#"{"errors":["rate limit quota exceeded"]}"#);
    let good = FakeNode::start(200, WALLETS);
    let c = client(
        vec![sealed.addr.clone(), limited.addr.clone(), good.addr.clone()],
        3,
    );
    assert_eq!(c.wallets().list().await.expect("list").len(), 2);
    assert_eq!((sealed.hits(), limited.hits(), good.hits()), (1, 1, 1));
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_failure_is_reported() {
    let sealed = FakeNode::start(503, r#"{"errors":["Vault is sealed"]}"#);
    let c = client(vec![sealed.addr.clone(), dead_address()], 5);
    let e = c.wallets().list().await.expect_err("all down");
    match &e {
        Error::Unavailable { attempts, .. } => assert_eq!(*attempts, 5),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // 5 attempts alternate between the two nodes: 3 reach the sealed one.
    assert_eq!(sealed.hits(), 3);
}

#[tokio::test]
async fn a_client_error_is_returned_at_once_with_status_and_messages() {
    let bad = FakeNode::start(400, r#"{"errors":["field `chain_id` is required"]}"#);
    let other = FakeNode::start(200, "{}");
    let c = client(vec![bad.addr.clone(), other.addr.clone()], 4);
    let tx = vault_crypto_sdk::ethereum::SignTransaction::legacy(1, 0, 21_000, 1u64);
    let e = c
        .ethereum()
        .sign_transaction("w", &tx)
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.server_messages(), ["field `chain_id` is required"]);
    assert!(e.to_string().contains("answered 400"));
    assert_eq!(other.hits(), 0, "a 400 must not be retried elsewhere");
}

#[tokio::test]
async fn forbidden_and_not_found_are_classified() {
    let denied = FakeNode::start(403, r#"{"errors":["policy: denied_recipients"]}"#);
    let c = client(vec![denied.addr.clone()], 1);
    let e = c.wallets().read("w").await.expect_err("403");
    assert!(e.is_forbidden());
    let missing = FakeNode::start(404, r#"{"errors":[]}"#);
    let c = client(vec![missing.addr.clone()], 1);
    assert!(c.wallets().read("w").await.expect_err("404").is_not_found());
    // LIST with 404 and no message is an empty list (Vault's convention).
    assert!(c.wallets().list().await.expect("empty").is_empty());
}

#[tokio::test]
async fn invalid_names_never_reach_the_server() {
    let node = FakeNode::start(200, "{}");
    let c = client(vec![node.addr.clone()], 1);
    let e = c
        .wallets()
        .read("../../sys/raw")
        .await
        .expect_err("bad name");
    assert!(matches!(e, Error::InvalidArgument { field: "name", .. }));
    assert_eq!(node.hits(), 0);
}
