# The tenantctl image: the CLI and the operator in one static binary, on an empty base, as a non-root
# user. Build: docker build -t ghcr.io/tenantctl/tenantctl:0.1.0 .
# (the name and tag deploy/deployment.yaml and the Helm chart use; keep them with Cargo.toml's version).

FROM rust:1.89-alpine AS build
# musl's C toolchain, for ring.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin tenantctl \
 && strip target/release/tenantctl

FROM scratch
COPY --from=build /src/target/release/tenantctl /tenantctl
# No CA bundle is needed: rustls carries Mozilla's roots (webpki-roots).
USER 65532:65532
ENTRYPOINT ["/tenantctl"]
CMD ["operator"]
