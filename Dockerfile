# One image per component (hub, gateway, user, post, comment):
#   docker build --build-arg COMPONENT=gateway -t switchboard/gateway:0.1.0 .
# Both base images are build arguments, for mirrors and for machines that must make their own bases.
# BUILD_IMAGE needs a JDK 21+ (with jlink) and glibc; RUNTIME_BASE needs only glibc (the JRE is copied in).
ARG BUILD_IMAGE=eclipse-temurin:21-jdk
ARG RUNTIME_BASE=debian:bookworm-slim
ARG COMPONENT=hub

FROM ${BUILD_IMAGE} AS build
ARG COMPONENT
# What the runtime needs, found with jdeps --print-module-deps over hub, gateway, user and post (comment's
# libraries are post's), plus jdk.crypto.ec (ES256 on JDK 21) and jdk.zipfs.
ARG JAVA_MODULES=java.base,java.compiler,java.desktop,java.management,java.naming,java.sql,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.unsupported,jdk.zipfs
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY proto/ proto/
COPY modules/ modules/
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -pl "modules/${COMPONENT}" -am package -DskipTests \
 && mkdir -p /out/app /out/data \
 && cp "modules/${COMPONENT}/target/${COMPONENT}.jar" /out/app/app.jar \
 && cp -r "modules/${COMPONENT}/target/libs" /out/app/libs
RUN jlink --add-modules "${JAVA_MODULES}" --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
          --output /out/jre

FROM ${RUNTIME_BASE} AS runtime
COPY --from=build /out/jre /opt/java
COPY --from=build /out/app /app
ENV PATH=/opt/java/bin:$PATH \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=40 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"
WORKDIR /app
# numeric, so that Kubernetes can check runAsNonRoot; no passwd entry needed
USER 10001:10001
ENTRYPOINT ["/opt/java/bin/java", "-jar", "/app/app.jar"]

FROM runtime AS hub
EXPOSE 8004

FROM runtime AS gateway
EXPOSE 8008

FROM runtime AS post
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8005

FROM runtime AS comment
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8007

FROM runtime AS user
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8006

FROM ${COMPONENT}
