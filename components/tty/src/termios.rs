//! [`Termios`]: a terminal's settings, with the byte images the `TCGETS`/`TCSETS` (36 bytes)
//! and `TCGETS2`/`TCSETS2` (44 bytes) ioctls copy.

use tessera_abi::termios::{
    BOTHER, CBAUD, CBAUDEX, DEFAULT_CC, DEFAULT_CFLAG, DEFAULT_IFLAG, DEFAULT_LFLAG, DEFAULT_OFLAG,
    DEFAULT_SPEED, IBSHIFT, N_TTY, NCCS, TERMIOS_SIZE, TERMIOS2_SIZE, VMIN, VTIME,
};

/// Speeds of `CBAUD` values 0..=15 (`B0` .. `B38400`).
const BAUD_LOW: [u32; 16] = [
    0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
];
/// Speeds of `CBAUDEX | 1` .. `CBAUDEX | 15` (`B57600` .. `B4000000`); index 0 is `BOTHER`.
const BAUD_HIGH: [u32; 16] = [
    0, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
    2500000, 3000000, 3500000, 4000000,
];

/// The settings of a terminal: the kernel's `struct termios2` (the fields of `struct termios`
/// plus the two line speeds). Field names drop the `c_` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    /// Input modes (`ICRNL`, `IXON`, ...).
    pub iflag: u32,
    /// Output modes (`OPOST`, `ONLCR`, ...).
    pub oflag: u32,
    /// Control modes (`CBAUD`, `CS8`, `CREAD`, ...).
    pub cflag: u32,
    /// Local modes (`ICANON`, `ECHO`, `ISIG`, ...).
    pub lflag: u32,
    /// Line discipline number; always [`N_TTY`] here.
    pub line: u8,
    /// Control characters, indexed by `VINTR`, `VEOF`, ... (0 disables one).
    pub cc: [u8; NCCS],
    /// Input speed in bits per second (`c_ispeed`).
    pub ispeed: u32,
    /// Output speed in bits per second (`c_ospeed`).
    pub ospeed: u32,
}

impl Default for Termios {
    /// Linux's settings for a new terminal (`tty_std_termios`): canonical mode with echo and
    /// signals, CR read as NL, NL written as CR NL, 38400 baud 8N1.
    fn default() -> Termios {
        Termios {
            iflag: DEFAULT_IFLAG,
            oflag: DEFAULT_OFLAG,
            cflag: DEFAULT_CFLAG,
            lflag: DEFAULT_LFLAG,
            line: N_TTY,
            cc: DEFAULT_CC,
            ispeed: DEFAULT_SPEED,
            ospeed: DEFAULT_SPEED,
        }
    }
}

/// Speed of a `CBAUD` value; `None` for `BOTHER` (the speed field holds it).
fn baud(code: u32) -> Option<u32> {
    let index = (code & 0o17) as usize;
    if code & CBAUDEX == 0 {
        Some(BAUD_LOW[index])
    } else if code & CBAUD == BOTHER {
        None
    } else {
        Some(BAUD_HIGH[index])
    }
}

impl Termios {
    /// `true` when `flag` (one of the `c_lflag` bits) is set.
    pub fn local(&self, flag: u32) -> bool {
        self.lflag & flag != 0
    }

    /// `true` when `flag` (one of the `c_iflag` bits) is set.
    pub fn input(&self, flag: u32) -> bool {
        self.iflag & flag != 0
    }

    /// `true` when `flag` (one of the `c_oflag` bits) is set.
    pub fn output(&self, flag: u32) -> bool {
        self.oflag & flag != 0
    }

    /// `true` when `byte` is the enabled control character `index` (`VINTR`, ...). A `c_cc`
    /// entry of 0 (`_POSIX_VDISABLE`) matches nothing, so NUL is never special.
    pub fn is_char(&self, byte: u8, index: usize) -> bool {
        self.cc[index] != 0 && self.cc[index] == byte
    }

    /// `c_cc[VMIN]`: the byte count a non-canonical read waits for.
    pub fn vmin(&self) -> u8 {
        self.cc[VMIN]
    }

    /// `c_cc[VTIME]`: the non-canonical read timeout, in deciseconds.
    pub fn vtime(&self) -> u8 {
        self.cc[VTIME]
    }

    /// Recomputes `ispeed`/`ospeed` from `cflag` as Linux does after every set: the `CBAUD`
    /// (and `CIBAUD`) codes win, except `BOTHER`, which keeps the speed field as it is. An
    /// input code of `B0` means "same as output".
    pub fn derive_speeds(&mut self) {
        if let Some(speed) = baud(self.cflag & CBAUD) {
            self.ospeed = speed;
        }
        let input = (self.cflag >> IBSHIFT) & CBAUD;
        if input == 0 {
            self.ispeed = self.ospeed;
        } else if let Some(speed) = baud(input) {
            self.ispeed = speed;
        }
    }

    /// The 36-byte `struct termios` image `TCGETS` copies out (little-endian).
    pub fn to_bytes(&self) -> [u8; TERMIOS_SIZE] {
        let mut bytes = [0; TERMIOS_SIZE];
        for (i, word) in [self.iflag, self.oflag, self.cflag, self.lflag]
            .into_iter()
            .enumerate()
        {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        bytes[16] = self.line;
        bytes[17..].copy_from_slice(&self.cc);
        bytes
    }

    /// Settings from a `struct termios` image (`TCSETS*`). The image carries no speeds:
    /// they come from `cflag`, or from `previous` when `cflag` says `BOTHER`.
    pub fn from_bytes(bytes: &[u8; TERMIOS_SIZE], previous: &Termios) -> Termios {
        let word = |i: usize| {
            u32::from_le_bytes([
                bytes[i * 4],
                bytes[i * 4 + 1],
                bytes[i * 4 + 2],
                bytes[i * 4 + 3],
            ])
        };
        let mut cc = [0; NCCS];
        cc.copy_from_slice(&bytes[17..]);
        let mut termios = Termios {
            iflag: word(0),
            oflag: word(1),
            cflag: word(2),
            lflag: word(3),
            line: bytes[16],
            cc,
            ispeed: previous.ispeed,
            ospeed: previous.ospeed,
        };
        termios.derive_speeds();
        termios
    }

    /// The 44-byte `struct termios2` image `TCGETS2` copies out.
    pub fn to_bytes2(&self) -> [u8; TERMIOS2_SIZE] {
        let mut bytes = [0; TERMIOS2_SIZE];
        bytes[..TERMIOS_SIZE].copy_from_slice(&self.to_bytes());
        bytes[36..40].copy_from_slice(&self.ispeed.to_le_bytes());
        bytes[40..44].copy_from_slice(&self.ospeed.to_le_bytes());
        bytes
    }

    /// Settings from a `struct termios2` image (`TCSETS2*`): its speeds count where `cflag`
    /// says `BOTHER`, otherwise the `CBAUD` codes do.
    pub fn from_bytes2(bytes: &[u8; TERMIOS2_SIZE]) -> Termios {
        let speed = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let given = Termios {
            ispeed: speed(36),
            ospeed: speed(40),
            ..Termios::default()
        };
        let mut head = [0; TERMIOS_SIZE];
        head.copy_from_slice(&bytes[..TERMIOS_SIZE]);
        Termios::from_bytes(&head, &given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_abi::termios::*;

    #[test]
    fn default_is_a_linux_console() {
        let t = Termios::default();
        assert_eq!(t.iflag, ICRNL | IXON);
        assert_eq!(t.oflag, OPOST | ONLCR);
        assert_eq!(t.cflag, B38400 | CS8 | CREAD | HUPCL);
        assert!(t.local(ICANON) && t.local(ECHO) && t.local(ISIG) && t.local(IEXTEN));
        assert_eq!((t.ispeed, t.ospeed), (38400, 38400));
        // What `stty -g` would print for the flag words on Linux.
        assert_eq!(
            (t.iflag, t.oflag, t.cflag, t.lflag),
            (0x500, 0x5, 0x4bf, 0x8a3b)
        );
    }

    #[test]
    fn byte_images_round_trip() {
        let mut t = Termios::default();
        t.lflag &= !(ICANON | ECHO);
        t.cc[VMIN] = 0;
        t.cc[VTIME] = 7;
        t.cc[VINTR] = 0;
        let bytes = t.to_bytes();
        assert_eq!(bytes[..4], 0x500u32.to_le_bytes());
        assert_eq!(bytes[17 + VTIME], 7);
        assert_eq!(Termios::from_bytes(&bytes, &Termios::default()), t);
        assert_eq!(Termios::from_bytes2(&t.to_bytes2()), t);
    }

    #[test]
    fn speeds_follow_cbaud_unless_bother() {
        let mut t = Termios::default();
        t.cflag = (t.cflag & !CBAUD) | B115200;
        let set = Termios::from_bytes(&t.to_bytes(), &Termios::default());
        assert_eq!((set.ispeed, set.ospeed), (115200, 115200));

        t.cflag = (t.cflag & !CBAUD) | BOTHER | (B9600 << IBSHIFT);
        t.ospeed = 31250;
        let set = Termios::from_bytes2(&t.to_bytes2());
        assert_eq!((set.ispeed, set.ospeed), (9600, 31250));
        // TCSETS carries no speed: BOTHER keeps the terminal's current one.
        let set = Termios::from_bytes(&t.to_bytes(), &Termios::default());
        assert_eq!(set.ospeed, 38400);
    }

    #[test]
    fn disabled_control_characters_match_nothing() {
        let t = Termios::default();
        assert!(t.is_char(3, VINTR));
        assert!(!t.is_char(0, VEOL), "VEOL is 0 (disabled) by default");
        assert!(!t.is_char(3, VQUIT));
    }
}
