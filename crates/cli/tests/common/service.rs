//! The resolver service on 127.0.0.1 for the command's end-to-end tests
//! (`#[path]`-included by the tests that need the `serve` feature).

use waybill_redact_service::Config;

/// The resolver service on 127.0.0.1, on its own runtime and thread.
pub struct Service {
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Service {
    pub fn start(config: Config) -> Self {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = waybill_redact_service::build(&config).await.unwrap();
                let listeners = waybill_redact_service::Listeners {
                    public: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
                    admin: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
                };
                let url = format!("http://{}", listeners.public.local_addr().unwrap());
                url_tx.send(url).unwrap();
                let shutdown = async {
                    let _ = stopped.await;
                };
                waybill_redact_service::run(app, listeners, shutdown)
                    .await
                    .unwrap();
            });
        });
        let url = url_rx.recv().expect("the service starts");
        Self { url, stop, thread }
    }

    /// Graceful shutdown: the queued audit records are committed.
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().unwrap();
    }
}
