//! Writes: `-o FILE` is atomic however py2nix is stopped, and the cache tolerates several
//! py2nix processes at once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fixture, stderr, IndexServer, Mode};
use crate::network::{
    command, files_under, healthy, poetry_project, requirements_project, run_bounded, FlakyServer,
    Reply, Request, ALPHA, BETA,
};

/// Pages that take a while: py2nix sits in its fetching phase long enough to be killed there.
fn slow(request: &Request) -> Reply {
    match healthy(request) {
        Reply::Ok(content_type, body) => {
            Reply::Slow(Duration::from_millis(300), content_type, body)
        }
        other => other,
    }
}

/// When to stop the process.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// As soon as it is started.
    AtOnce,
    /// When the index has received this many requests (the process is fetching).
    Requested(usize),
    /// This long after the index answered every page (the process plans and writes).
    AfterAnswers(Duration),
}

fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `signal` to the child and reaps it.
fn stop(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// What the output directory holds besides the output file.
fn leftovers(dir: &Path, file: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p != Path::new(file))
        .collect()
}

#[test]
fn killing_py2nix_leaves_the_old_file_or_the_new_one() {
    let project = poetry_project();
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("python.nix");
    let target_arg = target.to_str().expect("utf-8").to_string();
    let extra = ["--format", "nix", "-o", target_arg.as_str()];
    let server = FlakyServer::start(slow);

    // The old file: one py2nix made for a different index (its URLs differ), and the new one.
    let old_server = FlakyServer::start(healthy);
    let cache = tempfile::tempdir().expect("tempdir");
    let made = run_bounded(
        command(
            project.path(),
            &old_server.index_url(),
            cache.path(),
            &extra,
        ),
        Duration::from_secs(120),
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let old = std::fs::read(&target).expect("old file");
    // The new file, and how long the process goes on after its last answer (planning,
    // rendering, writing), to spread the late kills over that stretch.
    let cache = tempfile::tempdir().expect("tempdir");
    let answered_before = server.answered();
    let mut child = command(project.path(), &server.index_url(), cache.path(), &extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start py2nix");
    wait_until(Instant::now() + Duration::from_secs(60), || {
        server.answered() >= answered_before + 2
    });
    let answered_at = Instant::now();
    let status = child.wait().expect("wait");
    let tail = answered_at.elapsed();
    assert!(status.success());
    let new = std::fs::read(&target).expect("new file");
    assert_ne!(old, new);

    // One run, stopped at `moment` with `signal`: whether the file is then old or new, and
    // how many stray temporary files the run left.
    let attempt = |moment: Moment, signal: &str| -> (bool, usize) {
        std::fs::write(&target, &old).expect("restore the old file");
        for stray in leftovers(out.path(), "python.nix") {
            std::fs::remove_file(out.path().join(stray)).expect("clean");
        }
        let cache = tempfile::tempdir().expect("tempdir");
        let asked_before = server.log().len();
        let answered_before = server.answered();
        let mut child = command(project.path(), &server.index_url(), cache.path(), &extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start py2nix");
        let deadline = Instant::now() + Duration::from_secs(60);
        match moment {
            Moment::AtOnce => {}
            Moment::Requested(n) => wait_until(deadline, || server.log().len() >= asked_before + n),
            Moment::AfterAnswers(after) => {
                wait_until(deadline, || server.answered() >= answered_before + 2);
                std::thread::sleep(after);
            }
        }
        stop(&mut child, signal);
        let now = std::fs::read(&target).expect("the output file is always there");
        let is_new = if now == old {
            false
        } else if now == new {
            true
        } else {
            panic!(
                "{moment:?} {signal}: the file is neither the old nor the new one:\n{}",
                String::from_utf8_lossy(&now)
            );
        };
        // A stray temporary file may stay when the process dies between creating and renaming
        // it; it must be the hidden `.py2nix-*` kind, never anything else.
        let stray = leftovers(out.path(), "python.nix");
        for file in &stray {
            let name = file.to_string_lossy();
            assert!(
                name.starts_with(".py2nix-"),
                "{moment:?} {signal}: an unexpected file {name}"
            );
        }
        (is_new, stray.len())
    };

    // Coarse: before and during fetching, then every tenth of the stretch after the answers,
    // with each signal (each ends it at once; SIGINT, SIGTERM and SIGHUP remove the temporary
    // file first).
    let mut outcomes = Vec::new();
    let mut moments = vec![Moment::AtOnce, Moment::Requested(1), Moment::Requested(2)];
    moments.extend((0..=12).map(|tenth| Moment::AfterAnswers(tail * tenth / 10)));
    let (mut last_old, mut first_new) = (Duration::ZERO, tail * 2);
    for moment in moments {
        for signal in ["-KILL", "-TERM", "-INT", "-HUP"] {
            let (is_new, stray) = attempt(moment, signal);
            if let Moment::AfterAnswers(after) = moment {
                if is_new {
                    first_new = first_new.min(after);
                } else {
                    last_old = last_old.max(after);
                }
            }
            outcomes.push((moment, signal, is_new, stray));
        }
    }
    // Fine: twenty kills between the last kill that left the old file and the first that
    // found the new one, where the write happens.
    let (from, to) = (last_old.min(first_new), first_new.max(last_old));
    for step in 0..=20u32 {
        let moment = Moment::AfterAnswers(from + (to - from) * step / 20);
        let (is_new, stray) = attempt(moment, "-KILL");
        outcomes.push((moment, "-KILL", is_new, stray));
    }
    let report: Vec<String> = outcomes
        .iter()
        .map(|(moment, signal, is_new, stray)| {
            let state = if *is_new { "new" } else { "old" };
            format!("{moment:?} {signal}: {state}, {stray} stray temporary files")
        })
        .collect();
    eprintln!(
        "after the last answer the run took {tail:?}\n{}",
        report.join("\n")
    );
    assert!(outcomes.iter().any(|o| !o.2), "no kill came early enough");
    // Only SIGKILL, which cannot be caught, may leave a temporary file behind.
    for (moment, signal, _, stray) in &outcomes {
        assert!(
            *signal == "-KILL" || *stray == 0,
            "{moment:?} {signal}: {stray} temporary files left"
        );
    }
    // Whatever happened, the next run replaces the file whole.
    let cache = tempfile::tempdir().expect("tempdir");
    let done = run_bounded(
        command(project.path(), &server.index_url(), cache.path(), &extra),
        Duration::from_secs(120),
    );
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(std::fs::read(&target).expect("read"), new);
}

/// Several py2nix processes at once over one cache: all succeed with the same plan, and the
/// cache they leave is whole (every entry parses) and answers an --offline run alike.
#[test]
fn concurrent_runs_share_the_cache() {
    let cache = tempfile::tempdir().expect("tempdir");
    // Recorded pages of a real project (13 of them), and an install list whose dependencies
    // come from PEP 658 metadata files (a second kind of cache entry).
    let recorded = IndexServer::start(Mode::Html);
    let flask = fixture("flask-pillow");
    let flaky = FlakyServer::start(healthy);
    let requirements = requirements_project();
    let poetry = poetry_project();
    let runs: Vec<(&Path, String)> = vec![
        (flask.as_path(), recorded.url.clone()),
        (requirements.path(), flaky.index_url()),
        (poetry.path(), flaky.index_url()),
    ];
    for round in 0..2 {
        let children: Vec<(usize, Child)> = (0..4)
            .flat_map(|_| 0..runs.len())
            .map(|which| {
                let (dir, index) = &runs[which];
                let child = command(dir, index, cache.path(), &[])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start py2nix");
                (which, child)
            })
            .collect();
        let mut plans: Vec<Option<Vec<u8>>> = vec![None; runs.len()];
        for (which, child) in children {
            let output = child.wait_with_output().expect("wait");
            assert!(
                output.status.success(),
                "round {round}: {}",
                stderr(&output)
            );
            match &plans[which] {
                None => plans[which] = Some(output.stdout),
                Some(plan) => assert_eq!(plan, &output.stdout, "round {round}: runs disagree"),
            }
        }
        // The cache is whole: every entry parses, and no temporary file stayed.
        let files = files_under(cache.path());
        assert!(files.len() > 13, "{files:?}");
        for file in &files {
            let name = file.to_string_lossy();
            assert!(
                !name.contains(".py2nix-tmp-") && !name.contains(".tmp"),
                "a temporary file stayed: {name}"
            );
            if name.ends_with(".json") {
                let bytes = std::fs::read(cache.path().join(file)).expect("read");
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
            }
        }
        // And it answers alone.
        for (which, (dir, index)) in runs.iter().enumerate() {
            let output = run_bounded(
                command(dir, index, cache.path(), &["--offline"]),
                Duration::from_secs(120),
            );
            assert!(output.status.success(), "{}", stderr(&output));
            assert_eq!(
                Some(&output.stdout),
                plans[which].as_ref(),
                "the cache answers as the index did"
            );
        }
    }
    assert!(flaky.count(&ALPHA.page_path()) >= 1 && flaky.count(&BETA.metadata_path()) >= 1);
}
