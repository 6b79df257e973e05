//! `run-once CMD [ARG]...`: runs CMD with the inherited stdin, stdout and stderr, waits for it,
//! and prints `<wall seconds> <peak RSS KiB> <CPU seconds>` on stderr's last line (CPU time is
//! user plus system, over all the child's threads), or fails with its exit code.
//!
//! Peak memory comes from `getrusage(RUSAGE_CHILDREN)` after the one child is reaped. Linux keeps
//! a process's peak across `exec`, so the launcher must be small: a Python harness forking the
//! command directly would add its own 15 MiB to every reading.

use std::process::Command;
use std::time::Instant;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: run-once CMD [ARG]...");
        std::process::exit(2);
    };
    let start = Instant::now();
    let status = match Command::new(&program).args(args).status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!("run-once: {}: {e}", program.to_string_lossy());
            std::process::exit(127);
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    // `getrusage` only fills a struct this function owns.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let (max_rss, cpu) = if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0 {
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        (usage.ru_maxrss, seconds(usage.ru_utime) + seconds(usage.ru_stime))
    } else {
        (-1, -1.0)
    };
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    eprintln!("{elapsed:.6} {max_rss} {cpu:.6}");
}
