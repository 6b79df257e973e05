//! The cached form of [`FetchedMetadata`]: serde mirrors of `py2nix_source`'s types, which
//! are not serialisable themselves. Stored under `metadata-v1/`, keyed by the file's URL
//! without credentials and its expected sha256.

use std::collections::BTreeMap;

use py2nix_source::{CoreMetadata, PyprojectRequirements, SdistRequirements};
use serde::{Deserialize, Serialize};

use crate::metadata::{FetchedMetadata, MetadataFrom};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct MetadataEntry {
    /// The file's URL without credentials.
    pub url: String,
    from: MetadataFrom,
    metadata: CoreMetadataWire,
    requirements: RequirementsWire,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct CoreMetadataWire {
    metadata_version: String,
    name: String,
    version: String,
    requires_dist: Vec<String>,
    provides_extra: Vec<String>,
    requires_python: Option<String>,
    dynamic: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum RequirementsWire {
    PkgInfo,
    Pyproject {
        dependencies: Vec<String>,
        optional_dependencies: Option<BTreeMap<String, Vec<String>>>,
    },
    Unknown {
        reason: String,
    },
}

impl MetadataEntry {
    pub(crate) fn new(url: String, fetched: &FetchedMetadata) -> Self {
        let m = &fetched.metadata;
        MetadataEntry {
            url,
            from: fetched.from,
            metadata: CoreMetadataWire {
                metadata_version: m.metadata_version.clone(),
                name: m.name.clone(),
                version: m.version.clone(),
                requires_dist: m.requires_dist.clone(),
                provides_extra: m.provides_extra.clone(),
                requires_python: m.requires_python.clone(),
                dynamic: m.dynamic.clone(),
            },
            requirements: match &fetched.requirements {
                SdistRequirements::PkgInfo => RequirementsWire::PkgInfo,
                SdistRequirements::Pyproject(p) => RequirementsWire::Pyproject {
                    dependencies: p.dependencies.clone(),
                    optional_dependencies: p.optional_dependencies.clone(),
                },
                SdistRequirements::Unknown { reason } => RequirementsWire::Unknown {
                    reason: reason.clone(),
                },
            },
        }
    }

    /// Always `Some` today; an `Option` so that a future entry this build cannot represent is
    /// a cache miss rather than an error.
    pub(crate) fn into_fetched(self) -> Option<FetchedMetadata> {
        let m = self.metadata;
        Some(FetchedMetadata {
            metadata: CoreMetadata {
                metadata_version: m.metadata_version,
                name: m.name,
                version: m.version,
                requires_dist: m.requires_dist,
                provides_extra: m.provides_extra,
                requires_python: m.requires_python,
                dynamic: m.dynamic,
            },
            requirements: match self.requirements {
                RequirementsWire::PkgInfo => SdistRequirements::PkgInfo,
                RequirementsWire::Pyproject {
                    dependencies,
                    optional_dependencies,
                } => SdistRequirements::Pyproject(PyprojectRequirements {
                    dependencies,
                    optional_dependencies,
                }),
                RequirementsWire::Unknown { reason } => SdistRequirements::Unknown { reason },
            },
            from: self.from,
        })
    }
}
