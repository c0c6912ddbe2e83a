# One image per component (hub, gateway, user, post, comment):
#   docker build --build-arg COMPONENT=gateway -t switchboard/gateway:0.1.0 .
# On a machine with no registry or Docker engine, scripts/images.sh builds all five from this file with buildah.
# Both base images are build arguments, for mirrors and for machines that must make their own bases:
#   BUILD_IMAGE   a JDK 21+ with jlink, glibc and objcopy (binutils: jlink --strip-debug runs it); ./mvnw fetches
#                 Maven with curl, wget or the JDK itself
#   RUNTIME_BASE  glibc, nothing more: the JRE is made by jlink below and copied in; no shell is needed
ARG BUILD_IMAGE=eclipse-temurin:21-jdk
ARG RUNTIME_BASE=gcr.io/distroless/base-nossl-debian12
ARG COMPONENT=hub

FROM ${BUILD_IMAGE} AS build
# What the runtime needs, found with jdeps --print-module-deps over hub, gateway, user and post (comment's
# libraries are post's), plus jdk.crypto.ec (ES256 on JDK 21) and jdk.zipfs. java.desktop (15 MB) is left out:
# the only classes of it the libraries name are java.beans ones, for SnakeYAML's bean loading (Helidon reads its YAML
# into maps), Micrometer binders and Jackson annotations we do not use; the tests' images stage (ImagesTest) runs
# every image.
ARG JAVA_MODULES=java.base,java.compiler,java.management,java.naming,java.sql,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.unsupported,jdk.zipfs
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY proto/ proto/
COPY modules/ modules/
# every component in one build, with nothing that depends on COMPONENT: the five images share this stage (and its
# layer cache) and the JRE layer below
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -pl modules/hub,modules/gateway,modules/user,modules/post,modules/comment -am package -Dmaven.test.skip=true \
 && for component in hub gateway user post comment; do \
        mkdir -p "/out/${component}" \
     && cp "modules/${component}/target/${component}.jar" "/out/${component}/app.jar" \
     && cp -r "modules/${component}/target/libs" "/out/${component}/libs"; \
    done \
 && mkdir -p /out/data
RUN jlink --add-modules "${JAVA_MODULES}" --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
          --output /out/jre

FROM ${RUNTIME_BASE} AS runtime
ARG COMPONENT
COPY --from=build /out/jre /opt/java
COPY --from=build /out/${COMPONENT} /app
ENV PATH=/opt/java/bin:$PATH \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=40 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"
WORKDIR /app
# numeric, so that Kubernetes can check runAsNonRoot; no passwd entry needed
USER 10001:10001
ENTRYPOINT ["/opt/java/bin/java", "--enable-native-access=ALL-UNNAMED", "-jar", "/app/app.jar"]

FROM runtime AS hub
EXPOSE 8004 9004

FROM runtime AS gateway
EXPOSE 8008 9008

FROM runtime AS post
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8005 9005

FROM runtime AS comment
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8007 9007

FROM runtime AS user
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data
VOLUME /data
EXPOSE 8006 9006

FROM ${COMPONENT}
