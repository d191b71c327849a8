//! Redirects against small loopback HTTP servers: the client never sends the token or a body
//! to an address that is not a configured node (another port, another host name), follows a
//! standby's 307 to another configured node, and stops on loops and method-changing redirects.
//! (https → http is refused by origin before any connection: `client::tests`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use vault_crypto_sdk::{Client, Config, Error, Method, RetryPolicy};

const TOKEN: &str = "s.redirect-test-token-7f3a9c";
const SECRET_BODY: &str = "abandon-abandon-secret-body-marker";

/// A loopback HTTP/1.1 server answering every request with one fixed reply, recording every
/// request it receives (head and body) so a test can look for the token in it.
struct Node {
    addr: String,
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

fn read_request(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut text = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        text.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    // Bounded: these tests send small bodies.
    let mut body = vec![0u8; len.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    text.push_str(&String::from_utf8_lossy(&body));
    Some(text)
}

impl Node {
    /// Answers `status` with `extra_headers()` on a new loopback port.
    fn start(status: &'static str, extra_headers: impl Fn() -> String + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        Self::start_on(listener, status, extra_headers)
    }

    fn start_on(
        listener: TcpListener,
        status: &'static str,
        extra_headers: impl Fn() -> String + Send + 'static,
    ) -> Self {
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                s.lock().expect("lock").push(req);
                let body = r#"{"data":{"ok":true}}"#;
                let reply = format!(
                    "HTTP/1.1 {status}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    extra_headers(),
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Node {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            seen,
        }
    }

    fn ok() -> Self {
        Self::start("200 OK", String::new)
    }

    /// A node answering `status` with `Location: location`.
    fn redirecting(status: &'static str, location: String) -> Self {
        Self::start(status, move || format!("Location: {location}\r\n"))
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

fn client(nodes: &[&Node]) -> Client {
    let c = Config::new(nodes.iter().map(|n| n.addr.clone()).collect::<Vec<_>>())
        .with_token(TOKEN)
        .with_retry(RetryPolicy::none());
    Client::new(c).expect("client")
}

async fn write(c: &Client) -> vault_crypto_sdk::Result<vault_crypto_sdk::RawResponse> {
    c.raw_request(
        Method::POST,
        "crypto/wallets/w",
        &[],
        Some(&json!({ "mnemonic": SECRET_BODY })),
    )
    .await
}

fn assert_never_reached(n: &Node) {
    let reqs = n.requests();
    assert!(
        reqs.is_empty(),
        "the redirect target received {} request(s); token present: {}",
        reqs.len(),
        reqs.iter().any(|r| r.contains(TOKEN))
    );
}

#[tokio::test]
async fn a_redirect_to_another_port_sends_nothing_there() {
    let evil = Node::ok();
    let a = Node::redirecting(
        "307 Temporary Redirect",
        format!("http://127.0.0.1:{}/v1/crypto/wallets/w", evil.port),
    );
    let err = write(&client(&[&a])).await.expect_err("not followed");
    match &err {
        Error::Redirect {
            status,
            target,
            reason,
            ..
        } => {
            assert_eq!(*status, 307);
            assert_eq!(target, &format!("http://127.0.0.1:{}", evil.port));
            assert!(
                reason.contains("not one of the configured nodes"),
                "{reason}"
            );
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
    assert!(!err.to_string().contains(TOKEN));
    assert_never_reached(&evil);
    // The configured node did get the request, token and body (so the test can fail).
    let got = a.requests();
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .to_ascii_lowercase()
            .contains(&TOKEN.to_ascii_lowercase())
    );
    assert!(got[0].contains(SECRET_BODY));
}

#[tokio::test]
async fn a_redirect_to_another_host_name_sends_nothing_there() {
    // `localhost` reaches the same loopback listener, but is not the configured origin.
    let evil = Node::ok();
    let a = Node::redirecting(
        "307 Temporary Redirect",
        format!("http://localhost:{}/v1/crypto/wallets/w", evil.port),
    );
    let err = write(&client(&[&a])).await.expect_err("not followed");
    assert!(
        matches!(err, Error::Redirect { status: 307, .. }),
        "{err:?}"
    );
    assert_never_reached(&evil);
}

#[tokio::test]
async fn a_standbys_redirect_to_a_configured_node_is_followed_with_the_same_request() {
    let active = Node::ok();
    // The standby names the active node's API address; a query or another path in the
    // location is not used: the same request is sent to the configured node.
    let standby = Node::redirecting(
        "307 Temporary Redirect",
        format!("http://127.0.0.1:{}/v1/sys/other?x=1", active.port),
    );
    let c = client(&[&standby, &active]);
    let r = write(&c).await.expect("followed");
    assert_eq!(r.status, 200);
    assert_eq!(r.node, active.addr);
    let got = active.requests();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("POST /v1/crypto/wallets/w HTTP/1.1"),
        "{}",
        got[0]
    );
    assert!(got[0].contains(SECRET_BODY));
    // The next request starts at the node that answered.
    c.raw_request(Method::GET, "sys/health", &[], None)
        .await
        .expect("health");
    assert_eq!(standby.requests().len(), 1);
    assert_eq!(active.requests().len(), 2);
}

#[tokio::test]
async fn a_redirect_loop_between_configured_nodes_stops() {
    // Two nodes that redirect to each other: bounded, then an error.
    let l1 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let l2 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (p1, p2) = (
        l1.local_addr().expect("a").port(),
        l2.local_addr().expect("a").port(),
    );
    let to = |p: u16| move || format!("Location: http://127.0.0.1:{p}/v1/x\r\n");
    let a2 = Node::start_on(l1, "307 Temporary Redirect", to(p2));
    let b2 = Node::start_on(l2, "307 Temporary Redirect", to(p1));
    let err = write(&client(&[&a2, &b2])).await.expect_err("loop");
    match err {
        Error::Redirect { reason, .. } => assert_eq!(reason, "too many redirects"),
        other => panic!("expected a redirect error, got {other:?}"),
    }
    let total = a2.requests().len() + b2.requests().len();
    assert_eq!(total, 3, "one request and two followed redirects");
}

#[tokio::test]
async fn a_method_changing_redirect_is_not_followed_even_to_a_configured_node() {
    let other = Node::ok();
    let a = Node::redirecting(
        "302 Found",
        format!("http://127.0.0.1:{}/v1/crypto/wallets/w", other.port),
    );
    let err = write(&client(&[&a, &other])).await.expect_err("302");
    assert!(
        matches!(err, Error::Redirect { status: 302, .. }),
        "{err:?}"
    );
    assert_never_reached(&other);
}
