//! The read side of [`LineDiscipline`]: lines or `VMIN`/`VTIME` reads, and readiness.

use crate::TtyRead;
use crate::ldisc::LineDiscipline;

impl LineDiscipline {
    /// Reads what a `read` of `buf.len()` bytes returns now.
    ///
    /// Canonical mode returns at most one line (or its first `buf.len()` bytes; the rest
    /// stays for the next read), and [`TtyRead::Eof`] for a `VEOF` typed at the start of a
    /// line. Non-canonical mode follows `VMIN`/`VTIME`: with `VMIN > 0` it waits for
    /// `min(VMIN, buf.len())` bytes; with `VMIN == 0` it returns what there is, and with
    /// `VTIME == 0` as well it never blocks (`Data(0)` when empty). A zero-length read
    /// returns `Data(0)`.
    pub fn try_read(&mut self, buf: &mut [u8]) -> TtyRead {
        if buf.is_empty() {
            return TtyRead::Data(0);
        }
        if self.canonical() {
            return match self.lines.front_mut() {
                None => TtyRead::WouldBlock,
                Some(0) => {
                    self.lines.pop_front();
                    TtyRead::Eof
                }
                Some(line) => {
                    let n = (*line).min(buf.len());
                    *line -= n;
                    if *line == 0 {
                        self.lines.pop_front();
                    }
                    self.take(&mut buf[..n])
                }
            };
        }
        let (vmin, vtime) = (usize::from(self.termios.vmin()), self.termios.vtime());
        let need = if vmin == 0 { 1 } else { vmin.min(buf.len()) };
        if self.queue.len() >= need {
            let n = self.queue.len().min(buf.len());
            self.take(&mut buf[..n])
        } else if vmin == 0 && vtime == 0 {
            TtyRead::Data(0)
        } else {
            TtyRead::WouldBlock
        }
    }

    /// How long a reader that got [`TtyRead::WouldBlock`] sleeps before calling
    /// [`try_read_timed_out`](Self::try_read_timed_out), in milliseconds; `None`: until
    /// input arrives.
    ///
    /// `VTIME` approximation: with `VMIN == 0` it bounds the wait for the first byte, as on
    /// Linux. With `VMIN > 0` Linux runs an inter-byte timer once a byte has arrived; here
    /// the timeout applies whenever some bytes are queued, and since each arriving byte
    /// wakes the reader, which retries and sleeps again, the timer restarts per byte just
    /// like Linux's.
    pub fn read_timeout(&self) -> Option<u32> {
        let vtime = u32::from(self.termios.vtime());
        if self.canonical() || vtime == 0 {
            return None;
        }
        (self.termios.vmin() == 0 || !self.queue.is_empty()).then_some(vtime * 100)
    }

    /// The read after [`read_timeout`](Self::read_timeout) expired: whatever is queued, up
    /// to `buf.len()` bytes, possibly nothing (`Data(0)`).
    pub fn try_read_timed_out(&mut self, buf: &mut [u8]) -> TtyRead {
        if self.canonical() {
            return self.try_read(buf);
        }
        let n = self.queue.len().min(buf.len());
        self.take(&mut buf[..n])
    }

    fn take(&mut self, buf: &mut [u8]) -> TtyRead {
        let n = buf.len();
        for (dst, src) in buf.iter_mut().zip(self.queue.drain(..n)) {
            *dst = src;
        }
        TtyRead::Data(buf.len())
    }

    /// Readable for `poll` (`POLLIN | POLLRDNORM`): a completed line or EOF mark in
    /// canonical mode; in non-canonical mode `VMIN` bytes when `VTIME` is 0 (Linux's
    /// rule), otherwise one byte.
    pub fn poll_readable(&self) -> bool {
        if self.canonical() {
            return !self.lines.is_empty();
        }
        let (vmin, vtime) = (self.termios.vmin(), self.termios.vtime());
        let need = if vtime == 0 && vmin > 0 { vmin } else { 1 };
        self.queue.len() >= usize::from(need)
    }

    /// Bytes a read could return now (`FIONREAD`): the completed lines in canonical mode,
    /// everything in non-canonical mode.
    pub fn pending_input(&self) -> usize {
        self.queue.len()
    }
}
