//! A TCP server on the host's loopback, for guests to reach through QEMU's user network
//! (as 10.0.2.2): `nettest`'s HTTP server and the benchmarks' peer. Each connection is
//! served on a thread of its own until the server is dropped, or until
//! [`LoopbackServer::finish`], which also waits for the connections being served.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running server; dropping it stops accepting.
pub struct LoopbackServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    /// The threads of the connections accepted (those that ended are pruned as new ones
    /// come).
    serving: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl LoopbackServer {
    /// Listens on a free port of 127.0.0.1 and hands each connection to `serve`.
    pub fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let serving = Arc::new(Mutex::new(Vec::new()));
        let (stopping, threads) = (stop.clone(), serving.clone());
        let serve = Arc::new(serve);
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let serve = serve.clone();
                let mut threads = threads.lock().unwrap();
                threads.retain(|t: &JoinHandle<()>| !t.is_finished());
                threads.push(std::thread::spawn(move || serve(conn)));
            }
        });
        Ok(LoopbackServer {
            port,
            stop,
            acceptor: Some(acceptor),
            serving,
        })
    }

    /// Stops accepting and waits until every connection accepted has been served: after
    /// it, whatever `serve` records is complete.
    pub fn finish(mut self) {
        if self.stop_accepting()
            && let Some(acceptor) = self.acceptor.take()
        {
            let _ = acceptor.join();
        }
        let threads = std::mem::take(&mut *self.serving.lock().unwrap());
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// Sets the flag and wakes the accepting thread so that it sees it; whether the wake-up
    /// connected (only then will that thread end).
    fn stop_accepting(&self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop_accepting();
        }
    }
}
