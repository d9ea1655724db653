//! Serving one listener: hyper's HTTP/1 connections with a header-read timeout,
//! an idle timeout, and a cap on open connections. At the cap the loop stops
//! accepting (back-pressure: new clients wait in the kernel's backlog) instead
//! of taking sockets it cannot serve. axum's own `serve` has none of these
//! settings, hence this loop (as axum's `serve-with-hyper` example).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// A listener's connection settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// From the moment the server waits for a request's head (a new connection,
    /// or a kept-alive one between requests) until the whole head has arrived.
    pub header_read: Duration,
    /// A connection with no byte read or written for this long is closed
    /// (a client that stops reading its answer, or stalls in its body).
    pub idle: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for open connections' requests.
    pub drain: Duration,
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets the
/// requests in flight finish (up to `limits.drain`).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = until_true(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // accept: wait a moment rather than spin.
                    if crate::logline::admit_io("accept") {
                        tracing::warn!(error = %e, "accept failed");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = until_true(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = tower::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let (io, last) = IdleIo::new(stream);
        let conn = graceful
            .watch(http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)));
        let idle = limits.idle;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                _ = conn => {}
                () = last.expired(idle) => {}
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after the drain time, closed");
    }
}

/// Resolves once the flag is true (or its sender is gone).
async fn until_true(flag: &mut watch::Receiver<bool>) {
    loop {
        let set = *flag.borrow_and_update();
        if set || flag.changed().await.is_err() {
            return;
        }
    }
}

/// When a connection last moved a byte.
#[derive(Debug, Clone)]
struct LastActivity {
    base: Instant,
    ms: Arc<AtomicU64>,
}

impl LastActivity {
    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once no byte moved for `idle`.
    async fn expired(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.ms.load(Ordering::Relaxed));
            let quiet = self.base.elapsed().saturating_sub(last);
            if quiet >= idle {
                return;
            }
            tokio::time::sleep(idle - quiet).await;
        }
    }
}

/// A TCP stream that records when it last read or wrote.
struct IdleIo {
    stream: TcpStream,
    last: LastActivity,
}

impl IdleIo {
    fn new(stream: TcpStream) -> (Self, LastActivity) {
        let last = LastActivity {
            base: Instant::now(),
            ms: Arc::default(),
        };
        (
            Self {
                stream,
                last: last.clone(),
            },
            last,
        )
    }
}

impl AsyncRead for IdleIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.last.touch();
        }
        polled
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The address a listener is bound to, for the log.
pub(crate) fn local(listener: &TcpListener) -> String {
    listener
        .local_addr()
        .map_or_else(|e| e.to_string(), |a: SocketAddr| a.to_string())
}
