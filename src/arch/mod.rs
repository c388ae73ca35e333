//! Architectures. For now only what native containers need: the host's
//! OCI name for the `toolbox-arch` label.

/// The host's architecture as OCI (podman) names it.
pub fn host_oci_name() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "arm" => "arm",
        "x86" => "386",
        other => other,
    }
}
