//! Terminal ioctls: termios images, window size, job control, errors.

use tessera_abi::Errno;
use tessera_abi::termios::*;
use tessera_tty::{
    IoctlArg, IoctlCaller, IoctlResult, Termios, Tty, TtyRead, TtySignal, WinSize, ioctl_spec,
};

/// A session leader (pid = pgid = sid) without a controlling terminal.
const LEADER: IoctlCaller = IoctlCaller {
    pid: 10,
    pgid: 10,
    sid: 10,
    has_controlling_tty: false,
    privileged: true,
};

fn out(result: Result<IoctlResult, Errno>) -> Vec<u8> {
    match result {
        Ok(IoctlResult::CopyOut(bytes)) => bytes.as_bytes().to_vec(),
        other => panic!("expected bytes to copy out, got {other:?}"),
    }
}

fn int(result: Result<IoctlResult, Errno>) -> i32 {
    i32::from_le_bytes(out(result).try_into().unwrap())
}

fn controlled() -> Tty {
    let mut tty = Tty::new();
    assert_eq!(
        tty.ioctl(TIOCSCTTY, 0, &[], &LEADER),
        Ok(IoctlResult::Acquired { stolen_from: None })
    );
    tty
}

#[test]
fn termios_round_trips_through_tcgets_and_tcsets() {
    let mut tty = Tty::new();
    let image = out(tty.ioctl(TCGETS, 0, &[], &LEADER));
    assert_eq!(image.len(), TERMIOS_SIZE);
    assert_eq!(image, Termios::default().to_bytes());

    let mut raw = Termios::default();
    raw.lflag &= !(ICANON | ECHO);
    raw.cc[VINTR] = 0;
    assert_eq!(
        tty.ioctl(TCSETS, 0, &raw.to_bytes(), &LEADER),
        Ok(IoctlResult::Done)
    );
    assert_eq!(tty.ldisc.termios(), &raw);
    assert_eq!(out(tty.ioctl(TCGETS, 0, &[], &LEADER)), raw.to_bytes());

    let image2 = out(tty.ioctl(TCGETS2, 0, &[], &LEADER));
    assert_eq!(image2.len(), TERMIOS2_SIZE);
    assert_eq!(image2[40..44], 38400u32.to_le_bytes());
    assert_eq!(
        tty.ioctl(TCSETSW2, 0, &Termios::default().to_bytes2(), &LEADER),
        Ok(IoctlResult::Done)
    );
    assert_eq!(tty.ldisc.termios(), &Termios::default());
}

#[test]
fn tcsetsf_flushes_pending_input_and_tcsets_does_not() {
    let mut tty = Tty::new();
    let t = Termios::default().to_bytes();
    tty.ldisc.input(b'a');
    tty.ldisc.input(b'\n');
    tty.ioctl(TCSETS, 0, &t, &LEADER).unwrap();
    assert_eq!(int(tty.ioctl(FIONREAD, 0, &[], &LEADER)), 2);
    tty.ioctl(TCSETSF, 0, &t, &LEADER).unwrap();
    assert_eq!(tty.ldisc.try_read(&mut [0; 4]), TtyRead::WouldBlock);
}

#[test]
fn unknown_ioctls_are_enotty_and_bad_arguments_einval() {
    let mut tty = Tty::new();
    assert_eq!(ioctl_spec(0x5412), Err(Errno::ENOTTY)); // TIOCSTI
    assert_eq!(
        ioctl_spec(FIONBIO),
        Err(Errno::ENOTTY),
        "the kernel handles file ioctls"
    );
    assert_eq!(tty.ioctl(0xdead, 0, &[], &LEADER), Err(Errno::ENOTTY));
    assert_eq!(tty.ioctl(TCSETS, 0, &[0; 10], &LEADER), Err(Errno::EINVAL));
    assert_eq!(tty.ioctl(TCGETS, 0, &[0; 4], &LEADER), Err(Errno::EINVAL));
    assert_eq!(tty.ioctl(TCFLSH, 7, &[], &LEADER), Err(Errno::EINVAL));
    assert_eq!(tty.ioctl(TCXONC, 9, &[], &LEADER), Err(Errno::EINVAL));
}

#[test]
fn specs_say_what_to_copy() {
    let spec = |cmd| ioctl_spec(cmd).unwrap();
    assert_eq!(spec(TCGETS).arg, IoctlArg::Out(36));
    assert_eq!(spec(TCSETSW).arg, IoctlArg::In(36));
    assert_eq!(spec(TCSETS2).arg, IoctlArg::In(44));
    assert_eq!(spec(TIOCSWINSZ).arg, IoctlArg::In(8));
    assert_eq!(spec(TIOCSPGRP).arg, IoctlArg::In(4));
    assert_eq!(spec(TCFLSH).arg, IoctlArg::Value);
    assert_eq!(spec(TIOCNOTTY).arg, IoctlArg::None);
    assert!(spec(TCSETS).foreground_only && spec(TIOCSPGRP).foreground_only);
    assert!(!spec(TCGETS).foreground_only && !spec(TIOCGWINSZ).foreground_only);
}

#[test]
fn window_size_defaults_to_24x80_and_changes_signal_the_foreground() {
    let mut tty = Tty::new();
    assert_eq!(
        out(tty.ioctl(TIOCGWINSZ, 0, &[], &LEADER)),
        [24, 0, 80, 0, 0, 0, 0, 0]
    );
    let big = WinSize {
        rows: 50,
        cols: 132,
        xpixel: 0,
        ypixel: 0,
    };
    assert_eq!(
        tty.ioctl(TIOCSWINSZ, 0, &big.to_bytes(), &LEADER),
        Ok(IoctlResult::Done),
        "no foreground group to tell"
    );
    let mut tty = controlled();
    assert_eq!(
        tty.ioctl(TIOCSWINSZ, 0, &big.to_bytes(), &LEADER),
        Ok(IoctlResult::Signal {
            signal: TtySignal::Winch,
            pgrp: 10
        })
    );
    assert_eq!(
        tty.ioctl(TIOCSWINSZ, 0, &big.to_bytes(), &LEADER),
        Ok(IoctlResult::Done),
        "unchanged"
    );
    assert_eq!(tty.winsize(), big);
}

#[test]
fn job_control_queries_need_the_controlling_terminal() {
    let mut tty = Tty::new();
    assert_eq!(tty.ioctl(TIOCGPGRP, 0, &[], &LEADER), Err(Errno::ENOTTY));
    assert_eq!(
        tty.ioctl(TIOCSPGRP, 0, &5i32.to_le_bytes(), &LEADER),
        Err(Errno::ENOTTY)
    );
    assert_eq!(tty.ioctl(TIOCGSID, 0, &[], &LEADER), Err(Errno::ENOTTY));
    assert_eq!(tty.ioctl(TIOCNOTTY, 0, &[], &LEADER), Err(Errno::ENOTTY));

    let mut tty = controlled();
    assert_eq!(int(tty.ioctl(TIOCGPGRP, 0, &[], &LEADER)), 10);
    assert_eq!(int(tty.ioctl(TIOCGSID, 0, &[], &LEADER)), 10);
    assert_eq!(
        tty.ioctl(TIOCSPGRP, 0, &42i32.to_le_bytes(), &LEADER),
        Ok(IoctlResult::SetForeground(42))
    );
    assert_eq!(
        tty.ioctl(TIOCSPGRP, 0, &(-1i32).to_le_bytes(), &LEADER),
        Err(Errno::EINVAL)
    );
    tty.set_foreground(42);
    assert_eq!(int(tty.ioctl(TIOCGPGRP, 0, &[], &LEADER)), 42);
    assert!(tty.is_background(10, 10));
}

#[test]
fn tiocsctty_follows_linux_rules() {
    let member = IoctlCaller { pid: 11, ..LEADER };
    assert_eq!(
        Tty::new().ioctl(TIOCSCTTY, 0, &[], &member),
        Err(Errno::EPERM),
        "not a session leader"
    );
    let has_one = IoctlCaller {
        has_controlling_tty: true,
        ..LEADER
    };
    assert_eq!(
        Tty::new().ioctl(TIOCSCTTY, 0, &[], &has_one),
        Err(Errno::EPERM)
    );

    let mut tty = controlled();
    assert_eq!(tty.session(), Some(10));
    assert_eq!(
        tty.ioctl(TIOCSCTTY, 0, &[], &LEADER),
        Ok(IoctlResult::Acquired { stolen_from: None }),
        "already ours"
    );
    let other = IoctlCaller {
        pid: 20,
        pgid: 20,
        sid: 20,
        has_controlling_tty: false,
        privileged: false,
    };
    assert_eq!(
        tty.ioctl(TIOCSCTTY, 1, &[], &other),
        Err(Errno::EPERM),
        "stealing needs privilege"
    );
    let root = IoctlCaller {
        privileged: true,
        ..other
    };
    assert_eq!(
        tty.ioctl(TIOCSCTTY, 0, &[], &root),
        Err(Errno::EPERM),
        "and asking for it"
    );
    assert_eq!(
        tty.ioctl(TIOCSCTTY, 1, &[], &root),
        Ok(IoctlResult::Acquired {
            stolen_from: Some(10)
        })
    );
    assert_eq!((tty.session(), tty.foreground()), (Some(20), Some(20)));
}

#[test]
fn tiocnotty_from_the_leader_hangs_up_the_foreground() {
    let mut tty = controlled();
    let member = IoctlCaller { pid: 11, ..LEADER };
    assert_eq!(
        tty.ioctl(TIOCNOTTY, 0, &[], &member),
        Ok(IoctlResult::Released { hangup: None })
    );
    assert_eq!(
        tty.session(),
        Some(10),
        "a member leaving changes nothing here"
    );
    assert_eq!(
        tty.ioctl(TIOCNOTTY, 0, &[], &LEADER),
        Ok(IoctlResult::Released { hangup: Some(10) })
    );
    assert_eq!(tty.session(), None);
}

#[test]
fn flush_and_flow_control_ioctls() {
    let mut tty = Tty::new();
    tty.ldisc.input(b'x');
    tty.ldisc.input(b'\n');
    assert_eq!(
        tty.ioctl(TCFLSH, TCOFLUSH, &[], &LEADER),
        Ok(IoctlResult::Done)
    );
    assert_eq!(int(tty.ioctl(FIONREAD, 0, &[], &LEADER)), 2);
    assert_eq!(
        tty.ioctl(TCFLSH, TCIFLUSH, &[], &LEADER),
        Ok(IoctlResult::Done)
    );
    assert_eq!(int(tty.ioctl(FIONREAD, 0, &[], &LEADER)), 0);

    assert_eq!(
        tty.ioctl(TCXONC, TCOOFF, &[], &LEADER),
        Ok(IoctlResult::Done)
    );
    assert!(tty.ldisc.output_stopped());
    assert_eq!(
        tty.ioctl(TCXONC, TCOON, &[], &LEADER),
        Ok(IoctlResult::OutputRestarted)
    );
    assert_eq!(
        tty.ioctl(TCXONC, TCIOFF, &[], &LEADER),
        Ok(IoctlResult::SendByte(0x13))
    );
    assert_eq!(tty.ioctl(TCSBRK, 1, &[], &LEADER), Ok(IoctlResult::Done));
    assert_eq!(int(tty.ioctl(TIOCOUTQ, 0, &[], &LEADER)), 0);
    assert_eq!(int(tty.ioctl(TIOCGETD, 0, &[], &LEADER)), 0);
}
