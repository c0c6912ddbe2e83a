package io.switchboard.gateway.edge;

import java.nio.charset.StandardCharsets;

import com.google.gson.JsonArray;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.DebugInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HttpErrorsUnitTest {

    @Test
    void aBackendsOwnDescriptionReachesTheClient() {
        assertThat(HttpErrors.clientMessage(Status.NOT_FOUND.withDescription("no post with that id")))
                .isEqualTo("no post with that id");
        assertThat(HttpErrors.clientMessage(Status.UNAVAILABLE.withDescription("no live instance of post")))
                .isEqualTo("no live instance of post");
        assertThat(HttpErrors.clientMessage(Status.PERMISSION_DENIED)).isEqualTo("permission denied");
    }

    @Test
    void whatTheTransportWroteAboutInternalAddressesDoesNot() {
        // as grpc-java 1.73 describes a deadline that passed on an open stream
        assertThat(HttpErrors.clientMessage(Status.DEADLINE_EXCEEDED.withDescription(
                "deadline exceeded after 4.999s. Name resolution delay 0.000 seconds. [closed=[], "
                + "open=[[buffered_nanos=123, remote_addr=10.0.3.7:8005]]]")))
                .isEqualTo("the service did not answer within the route's deadline");
        for (String transport : new String[] {"io exception: Connection refused: /10.0.3.7:8005",
                                              "Connection closed after GOAWAY. HTTP/2 error code: NO_ERROR, remote_addr=x",
                                              "io exception [fe80::1]:8005",
                                              "connect to post-7.post.svc/10.0.3.7:8005 failed"}) {
            assertThat(HttpErrors.clientMessage(Status.UNAVAILABLE.withDescription(transport)))
                    .as(transport).isEqualTo("unavailable");
        }
    }

    @Test
    void theStandardDetailsOfABackendsStatusAreShownAndDebugInfoAndUnknownBytesAreNot() {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.INVALID_ARGUMENT.value())
                .setMessage("bad title")
                .addDetails(Any.pack(BadRequest.newBuilder().addFieldViolations(
                        BadRequest.FieldViolation.newBuilder().setField("title").setDescription("too long")).build()))
                .addDetails(Any.pack(DebugInfo.newBuilder().addStackEntries("at secret.Code(Code.java:1)").build()))
                .addDetails(Any.newBuilder().setTypeUrl("type.googleapis.com/acme.Custom").setValue(ByteString.copyFromUtf8("x")))
                .build();

        JsonArray details = HttpErrors.details(StatusProto.toStatusRuntimeException(status));

        assertThat(details).hasSize(2);
        assertThat(details.get(0).getAsJsonObject().get("@type").getAsString())
                .isEqualTo("type.googleapis.com/google.rpc.BadRequest");
        assertThat(details.get(0).getAsJsonObject().getAsJsonArray("fieldViolations").get(0).getAsJsonObject()
                           .get("description").getAsString()).isEqualTo("too long");
        assertThat(details.get(1).toString()).isEqualTo("{\"@type\":\"type.googleapis.com/acme.Custom\"}");
        assertThat(details.toString()).doesNotContain("secret");
        assertThat(HttpErrors.details(Status.NOT_FOUND.asRuntimeException())).isNull();
        assertThat(new String(HttpErrors.body("INVALID_ARGUMENT", "bad title", "r1", details), StandardCharsets.UTF_8))
                .startsWith("{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"bad title\",\"requestId\":\"r1\","
                            + "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.BadRequest\"");
    }
}
