// Package deploy holds vigil's deployment files, not Go code: torrc and
// torrc-staff (Tor onion services), vigil.service (a sandboxed systemd unit)
// and Containerfile (a distroless container image); docs/deploy.md explains
// them. Its tests check the files with the tools that read them: tor
// --verify-config (Debian's tor package) and systemd-analyze verify and
// security (Debian's systemd package), and the Containerfile's structure (no
// container engine is assumed). Without tor or systemd-analyze those tests
// skip; VIGIL_REQUIRE_DEPLOY=1 (set by .ci/run) makes them fail instead.
package deploy
