//! Why a plan could not be made.

/// A problem that stops the plan; every variant names the package or the request at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The user's request does not fit the project (unknown group, extra, target).
    #[error("{0}")]
    Request(String),
    /// `--group`/`--extra` names one the project does not have.
    #[error("the project has no {kind} `{name}` (it has: {known})")]
    UnknownSelection {
        /// `group` or `extra`.
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error("{from} depends on `{package}`, which the lock does not contain; the lock is out of date, re-lock the project")]
    MissingPackage { package: String, from: String },
    #[error("{from} needs `{package}` {constraint} for {target}, but no locked version fits (locked: {locked})")]
    NoMatchingVersion {
        package: String,
        constraint: String,
        from: String,
        target: String,
        locked: String,
    },
    #[error("{from} needs `{package}` {constraint} for {target}, but version {chosen} was already chosen there")]
    Conflict {
        package: String,
        target: String,
        chosen: String,
        from: String,
        constraint: String,
    },
    #[error("no usable file for `{package}` {version} on {target}: {reason}; the lock lists: {}", list_files(.files))]
    NoUsableFile {
        package: String,
        version: String,
        target: String,
        reason: String,
        files: Vec<String>,
    },
    #[error("hash mismatch for `{filename}` of `{package}`: the lock says {lock}, the index ({url}) says {index}")]
    HashMismatch {
        package: String,
        filename: String,
        lock: String,
        index: String,
        url: String,
    },
    #[error("`{package}`: {message}")]
    Source { package: String, message: String },
    #[error("`{package}` comes from a {kind} source ({url}), which py2nix cannot plan yet")]
    UnsupportedSource {
        package: String,
        kind: String,
        url: String,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<PlanError>),
    /// One problem met on several targets of the plan, said once with the targets it affects.
    #[error("{error} ({})", on_targets(.targets, *.all))]
    OnTargets {
        error: Box<PlanError>,
        targets: Vec<String>,
        /// Whether these are all the plan's targets.
        all: bool,
    },
}

fn on_targets(targets: &[String], all: bool) -> String {
    match (all, targets) {
        (true, _) => format!("on all {} targets", targets.len()),
        (false, [one]) => format!("on target {one}"),
        (false, _) => format!("on targets {}", targets.join(", ")),
    }
}

fn list_files(files: &[String]) -> String {
    if files.is_empty() {
        "no files".to_string()
    } else {
        files.join(", ")
    }
}

impl PlanError {
    /// One error for a list of them, or `None` when the list is empty.
    /// The errors met per target, each problem once (errors that read the same are one), with
    /// the targets it affects when the plan has several; `None` when there are none.
    pub fn collect_per_target(
        errors: Vec<(PlanError, String)>,
        targets: usize,
    ) -> Option<PlanError> {
        let mut merged: Vec<(String, PlanError, Vec<String>)> = Vec::new();
        for (error, target) in errors {
            let text = error.to_string();
            match merged.iter_mut().find(|(seen, _, _)| *seen == text) {
                Some((_, _, on)) => {
                    if !on.contains(&target) {
                        on.push(target);
                    }
                }
                None => merged.push((text, error, vec![target])),
            }
        }
        PlanError::collect(
            merged
                .into_iter()
                .map(|(_, error, on)| {
                    if targets > 1 {
                        PlanError::OnTargets {
                            error: Box::new(error),
                            all: on.len() == targets,
                            targets: on,
                        }
                    } else {
                        error
                    }
                })
                .collect(),
        )
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            PlanError::UnknownSelection { kind, .. } => Some(format!(
                "name one of the {kind}s it has, or take them all with --all-{kind}s"
            )),
            PlanError::OnTargets { error, .. } => error.hint(),
            _ => None,
        }
    }

    pub fn collect(mut errors: Vec<PlanError>) -> Option<PlanError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(PlanError::Many(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch() -> PlanError {
        PlanError::HashMismatch {
            package: "six".into(),
            filename: "six.whl".into(),
            lock: "a".into(),
            index: "b".into(),
            url: "u".into(),
        }
    }

    #[test]
    fn one_problem_on_several_targets_is_said_once_with_its_targets() {
        let per_target = vec![
            (mismatch(), "t1".to_string()),
            (mismatch(), "t2".to_string()),
        ];
        let error = PlanError::collect_per_target(per_target, 2).unwrap();
        assert_eq!(error.to_string().lines().count(), 1);
        assert!(error.to_string().ends_with("(on all 2 targets)"), "{error}");
        let error = PlanError::collect_per_target(vec![(mismatch(), "t2".into())], 3).unwrap();
        assert!(error.to_string().ends_with("(on target t2)"), "{error}");
        let error = PlanError::collect_per_target(vec![(mismatch(), "t".into())], 1).unwrap();
        assert!(matches!(error, PlanError::HashMismatch { .. }));
        assert!(PlanError::collect_per_target(Vec::new(), 2).is_none());
    }
}
