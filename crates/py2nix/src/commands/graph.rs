//! `py2nix graph`: one target's dependency graph as Graphviz DOT, Mermaid or plain lines, and
//! with `--why PKG` the paths from the roots to a package.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Context};

use py2nix_plan::Plan;

use crate::cli::{GraphArgs, GraphFormat};
use crate::commands::lock::{make_plan, LockSettings};
use crate::output;
use crate::report::{Classify, Failure, Hint, Reporter};

/// At most this many paths are printed for `--why`.
const MAX_PATHS: usize = 1000;

/// One target's graph.
pub struct Graph {
    pub target: String,
    pub roots: BTreeSet<String>,
    /// name -> (version, source kind, built from source)
    pub nodes: BTreeMap<String, (String, String, bool)>,
    /// (from, to) -> whether the edge breaks a cycle (not propagated in python.nix)
    pub edges: BTreeMap<(String, String), bool>,
}

pub fn run(args: GraphArgs, reporter: &Reporter) -> Result<(), Failure> {
    let plan = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read `{}`", path.display()))
                .input()?;
            crate::commands::diff::plan_from_text(&text)
                .with_context(|| format!("failed to read `{}`", path.display()))
                .input()?
                .ok_or_else(|| {
                    anyhow!(
                        "`{}` is neither a python.nix nor a JSON plan made by py2nix",
                        path.display()
                    )
                })
                .input()?
        }
        None => {
            let mut select = args.select.clone();
            if select.systems.is_empty() {
                select.systems = vec![this_system().to_string()];
            }
            let mut settings =
                LockSettings::from_args(args.project_dir.clone(), &select, &args.index, None)
                    .input()?;
            settings.first_python_only = select.pythons.is_empty();
            settings.frozen = args.frozen;
            let planned = make_plan(&settings, reporter)?;
            planned.plan
        }
    };
    let graph = Graph::from_plan(&plan, args.target.as_deref())?;
    let format = args.format.unwrap_or(if args.why.is_some() {
        GraphFormat::Text
    } else {
        GraphFormat::Dot
    });
    let text = match &args.why {
        Some(package) => {
            let name = normalise(package);
            if !graph.nodes.contains_key(&name) {
                return Err(Failure::Input(anyhow!(
                    "`{package}` is not installed on {} ({} packages)",
                    graph.target,
                    graph.nodes.len()
                )))
                .hint("`py2nix graph --format text` lists every edge; `-v` on `py2nix lock` says which markers left packages out");
            }
            let (paths, complete) = graph.paths_to(&name);
            if !complete {
                reporter.warn(&format!(
                    "more than {MAX_PATHS} paths lead to {name}; showing the first {MAX_PATHS}"
                ));
            }
            match format {
                GraphFormat::Text => paths
                    .iter()
                    .map(|p| format!("{}\n", p.join(" -> ")))
                    .collect(),
                other => graph.restricted_to(&paths).render(other),
            }
        }
        None => graph.render(format),
    };
    output::print(&text)
}

/// The Nix system of this machine when py2nix plans for it, else x86_64-linux.
pub fn this_system() -> &'static str {
    match (std::env::consts::ARCH, std::env::consts::OS) {
        ("aarch64", "linux") => "aarch64-linux",
        ("x86_64", "macos") => "x86_64-darwin",
        ("aarch64", "macos") => "aarch64-darwin",
        _ => "x86_64-linux",
    }
}

/// PEP 503 normalisation of a name given on the command line.
fn normalise(name: &str) -> String {
    py2nix_dist::normalize_name(name.trim())
}

impl Graph {
    pub fn from_plan(plan: &Plan, target: Option<&str>) -> Result<Graph, Failure> {
        let targets = &plan.targets;
        let ids: Vec<&String> = targets.keys().collect();
        let id = match target {
            Some(id) => targets
                .get_key_value(id)
                .map(|(k, _)| k)
                .ok_or_else(|| {
                    anyhow!(
                        "the plan has no target `{id}`; it has {}",
                        ids.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .input()?,
            None if ids.len() == 1 => ids[0],
            None => {
                return Err(Failure::Input(anyhow!(
                    "the plan holds {} targets ({}); a graph shows one",
                    ids.len(),
                    ids.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
                .hint("choose one with --target ID")
            }
        };
        let target = &targets[id.as_str()];
        let mut graph = Graph {
            target: id.clone(),
            roots: target.roots.iter().cloned().collect(),
            nodes: BTreeMap::new(),
            edges: BTreeMap::new(),
        };
        for (name, package) in &target.packages {
            graph.nodes.insert(
                name.clone(),
                (
                    package.version.clone(),
                    package.src.kind_name().to_string(),
                    package.src.is_built(),
                ),
            );
            for dep in &package.dependencies {
                let is_break = package.cycle_breaks.contains(dep);
                graph.edges.insert((name.clone(), dep.clone()), is_break);
            }
        }
        Ok(graph)
    }

    fn successors<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.edges
            .range((name.to_string(), String::new())..)
            .take_while(move |((from, _), _)| from == name)
            .map(|((_, to), _)| to)
    }

    /// Every node reachable from `start` (not counting `start` unless a cycle returns to it).
    fn reachable(&self, start: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = self.successors(start).collect();
        while let Some(name) = stack.pop() {
            if seen.insert(name.clone()) {
                stack.extend(self.successors(name));
            }
        }
        seen
    }

    /// The packages that lie on a dependency cycle.
    pub fn on_cycles(&self) -> BTreeSet<String> {
        self.nodes
            .keys()
            .filter(|name| self.reachable(name).contains(*name))
            .cloned()
            .collect()
    }

    /// Simple paths from a root to `target`, at most [`MAX_PATHS`]; `false` when cut short.
    pub fn paths_to(&self, target: &str) -> (Vec<Vec<String>>, bool) {
        // Only nodes that can reach the target are worth walking through.
        let useful: BTreeSet<String> = self
            .nodes
            .keys()
            .filter(|n| n.as_str() == target || self.reachable(n).contains(target))
            .cloned()
            .collect();
        let mut paths = Vec::new();
        let mut complete = true;
        for root in &self.roots {
            if !useful.contains(root) {
                continue;
            }
            let mut path = vec![root.clone()];
            self.walk(target, &useful, &mut path, &mut paths, &mut complete);
        }
        (paths, complete)
    }

    fn walk(
        &self,
        target: &str,
        useful: &BTreeSet<String>,
        path: &mut Vec<String>,
        paths: &mut Vec<Vec<String>>,
        complete: &mut bool,
    ) {
        if paths.len() >= MAX_PATHS {
            *complete = false;
            return;
        }
        let Some(last) = path.last().cloned() else {
            return;
        };
        if last == target {
            paths.push(path.clone());
            return;
        }
        for next in self.successors(&last) {
            if useful.contains(next) && !path.contains(next) {
                path.push(next.clone());
                self.walk(target, useful, path, paths, complete);
                path.pop();
            }
        }
    }

    /// The graph of the nodes and edges on `paths`.
    pub fn restricted_to(&self, paths: &[Vec<String>]) -> Graph {
        let mut nodes = BTreeMap::new();
        let mut edges = BTreeMap::new();
        for path in paths {
            for name in path {
                if let Some(node) = self.nodes.get(name) {
                    nodes.insert(name.clone(), node.clone());
                }
            }
            for pair in path.windows(2) {
                let key = (pair[0].clone(), pair[1].clone());
                let is_break = self.edges.get(&key).copied().unwrap_or(false);
                edges.insert(key, is_break);
            }
        }
        Graph {
            target: self.target.clone(),
            roots: self
                .roots
                .iter()
                .filter(|r| nodes.contains_key(*r))
                .cloned()
                .collect(),
            nodes,
            edges,
        }
    }

    pub fn render(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Dot => self.dot(),
            GraphFormat::Mermaid => self.mermaid(),
            GraphFormat::Text => self.text(),
        }
    }

    fn label(&self, name: &str, separator: &str) -> String {
        match self.nodes.get(name) {
            Some((version, kind, built)) if *built => {
                format!("{name}{separator}{version}{separator}({kind}, built)")
            }
            Some((version, _, _)) => format!("{name}{separator}{version}"),
            None => name.to_string(),
        }
    }

    fn dot(&self) -> String {
        let cycles = self.on_cycles();
        let mut out = format!(
            "digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
            dot_id(&self.target)
        );
        for name in self.nodes.keys() {
            let built = self.nodes.get(name).is_some_and(|n| n.2);
            let mut style = Vec::new();
            let mut attrs = vec![format!("label={}", dot_id(&self.label(name, "\n")))];
            if self.roots.contains(name) {
                style.push("bold");
            }
            if built {
                style.push("filled");
                attrs.push("fillcolor=\"#fde7c8\"".to_string());
            }
            if !style.is_empty() {
                attrs.push(format!("style=\"{}\"", style.join(",")));
            }
            if cycles.contains(name) {
                attrs.push("color=red".to_string());
            }
            out.push_str(&format!("  {} [{}];\n", dot_id(name), attrs.join(", ")));
        }
        for ((from, to), is_break) in &self.edges {
            let attrs = if *is_break {
                " [style=dashed, color=red, label=\"cycle\"]"
            } else if cycles.contains(from) && cycles.contains(to) {
                " [color=red]"
            } else {
                ""
            };
            out.push_str(&format!("  {} -> {}{attrs};\n", dot_id(from), dot_id(to)));
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self) -> String {
        let cycles = self.on_cycles();
        let ids: BTreeMap<&String, String> = self
            .nodes
            .keys()
            .enumerate()
            .map(|(i, name)| (name, format!("n{i}")))
            .collect();
        let id = |name: &String| ids.get(name).cloned().unwrap_or_else(|| "unknown".into());
        let mut out = "flowchart LR\n".to_string();
        let mut classes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for name in self.nodes.keys() {
            if self.roots.contains(name) {
                classes.entry("root").or_default().push(id(name));
            }
            if self.nodes.get(name).is_some_and(|n| n.2) {
                classes.entry("built").or_default().push(id(name));
            }
            if cycles.contains(name) {
                classes.entry("cycle").or_default().push(id(name));
            }
            let label = self.label(name, " ").replace('"', "#quot;");
            out.push_str(&format!("  {}[\"{label}\"]\n", id(name)));
        }
        for ((from, to), is_break) in &self.edges {
            let arrow = if *is_break { "-. cycle .->" } else { "-->" };
            out.push_str(&format!("  {} {arrow} {}\n", id(from), id(to)));
        }
        out.push_str("  classDef root stroke-width:3px\n");
        out.push_str("  classDef built fill:#fde7c8\n");
        out.push_str("  classDef cycle stroke:#d00\n");
        for (class, members) in classes {
            out.push_str(&format!("  class {} {class}\n", members.join(",")));
        }
        out
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for root in &self.roots {
            out.push_str(&format!("root {}\n", self.label(root, " ")));
        }
        for ((from, to), is_break) in &self.edges {
            let note = if *is_break { " (breaks a cycle)" } else { "" };
            out.push_str(&format!("{from} -> {to}{note}\n"));
        }
        out
    }
}

/// A DOT quoted identifier.
fn dot_id(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        let file = |kind: &str, name: &str| serde_json::json!({"kind": kind, "filename": name, "url": format!("https://files.example.org/{name}"), "hash": "sha256-AAAA"});
        let wheel = |name: &str| file("wheel", &format!("{name}-1-py3-none-any.whl"));
        let plan = serde_json::json!({"schema": 1, "generator": "py2nix 0.1.0", "targets": {"t": {
            "system": "x86_64-linux", "python": "3.11", "python-full-version": "3.11.14",
            "platform": {"glibc": "2.40"},
            "roots": ["app"],
            "packages": {
                "app": {"version": "1", "src": wheel("app"), "dependencies": ["a", "b"]},
                "a": {"version": "1", "src": wheel("a"), "dependencies": ["c"]},
                "b": {"version": "1", "src": file("sdist", "b-1.tar.gz"), "build-system": ["setuptools"], "dependencies": ["c"]},
                "c": {"version": "1", "src": wheel("c"), "dependencies": ["d"]},
                "d": {"version": "1", "src": wheel("d"), "dependencies": ["c"], "cycle-breaks": ["c"]},
            }
        }}});
        Graph::from_plan(&serde_json::from_value(plan).unwrap(), None).unwrap()
    }

    #[test]
    fn paths_cycles_and_names() {
        let graph = sample();
        let (paths, complete) = graph.paths_to("d");
        assert!(complete);
        assert_eq!(
            paths,
            [vec!["app", "a", "c", "d"], vec!["app", "b", "c", "d"]]
        );
        assert_eq!(graph.on_cycles(), ["c".to_string(), "d".to_string()].into());
        assert_eq!(normalise("Typing_Extensions"), "typing-extensions");
        let dot = graph.dot();
        assert!(
            dot.contains("\"d\" -> \"c\" [style=dashed, color=red, label=\"cycle\"];"),
            "{dot}"
        );
        assert!(dot.contains("fillcolor"), "{dot}");
    }
}
