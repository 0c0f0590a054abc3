# wufault as a container image: a static binary on a distroless base, run
# as a non-root user.
#
#   docker build -t wufault .
#   docker run --rm wufault                      # the whole catalog on loopback inside the container
#   docker run --rm -p 8080:8080 -p 1053:1053/udp -p 1053:1053/tcp -p 8530:8530 -p 8531:8531 -p 8081:8081 \
#     wufault serve --proxy 0.0.0.0:8080 --dns 0.0.0.0:1053 --upstream-http 0.0.0.0:8530 \
#     --upstream-https 0.0.0.0:8531 --control 0.0.0.0:8081 --control-token "$TOKEN" --allow-cidr 192.168.56.0/24
#
# The services bind loopback unless told otherwise, and a non-loopback bind
# needs --allow-cidr (the lab's client networks) and a control token.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary that runs on the distroless base.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/wufault ./cmd/wufault \
 && /out/wufault version \
 && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wufault /usr/local/bin/wufault
# The lab CA and other state live here (the nonroot user, uid 65532, owns it).
COPY --from=build --chown=65532:65532 /out/state /var/lib/wufault
ENV WUFAULT_STATE_DIR=/var/lib/wufault
VOLUME /var/lib/wufault
USER 65532:65532
# serve's ports: proxy, DNS (UDP and TCP), the Windows Update emulator
# (HTTP, HTTPS), the control API.
EXPOSE 8080/tcp 1053/udp 1053/tcp 8530/tcp 8531/tcp 8081/tcp
ENTRYPOINT ["/usr/local/bin/wufault"]
CMD ["lab"]
