package io.switchboard.gateway.edge;

import io.grpc.Status;
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
}
