# rust-ci-action as a container: `uses: docker://ghcr.io/<org>/rust-ci-action:v1`.
#
# FROM scratch: the statically linked binary, a CA bundle, a statically linked Docker CLI
# (the image gate drives the runner's engine through /var/run/docker.sock, which the runner
# mounts into container actions), /etc/passwd with root and nonroot (65532), and /tmp.
# Nothing is pulled, so this builds on machines without registry access. The build context
# must be prepared first:
#
#   RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu
#   docker/prepare-context.sh target/x86_64-unknown-linux-gnu/release/rust-ci-action
#   docker build -t rust-ci-action .
#
# The release workflow builds the multi-arch image from docker/Dockerfile.release instead.
#
# No USER line: GitHub runs container actions as the image's user and documents that it
# must be root, or the action cannot write GITHUB_WORKSPACE and the file-command files
# (https://docs.github.com/en/actions/reference/workflows-and-actions/dockerfile-support#user).
# Outside Actions, run it as nonroot: `docker run --user 65532:65532 ...`.
FROM scratch
COPY docker/rootfs/ /
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    TMPDIR=/tmp
LABEL org.opencontainers.image.title="rust-ci-action" \
      org.opencontainers.image.description="Coverage, image and rollout gates for GitHub Actions, in one binary" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/usr/local/bin/rust-ci-action"]
