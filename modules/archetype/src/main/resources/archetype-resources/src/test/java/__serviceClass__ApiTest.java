package ${package};

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import ${package}.api.v1.CreateItemRequest;
import ${package}.api.v1.GetItemRequest;
import ${package}.api.v1.Item;
import ${package}.api.v1.ListItemsRequest;
import ${package}.api.v1.ListItemsResponse;
import ${package}.api.v1.${serviceClass}ServiceGrpc;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The ${service} service on real parts: etcd (started by the Stack), the hub and the user service, all over mutual
 * TLS with a test CA.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ${serviceClass}ApiTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static ManagedChannel userChannel;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        UserServer user = STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        ${serviceClass}Server service = STACK.start(${serviceClass}Server.start(STACK.serviceConfig(hub.port(), Map.of())));
        userChannel = STACK.channel("gateway", "user", user.runtime().port());
        channel = STACK.channel("gateway", "${service}", service.runtime().port());
        await().atMost(Duration.ofSeconds(15)).until(() -> service.runtime().ready() && user.runtime().ready());
    }

    @Test
    void anItemIsTheCallersAndIsFoundAndListed() {
        LoginResponse login = login("+4915100${port}01");
        Item created = as(login).createItem(CreateItemRequest.newBuilder().setText("first").build());
        assertThat(created.getOwner()).isEqualTo(login.getUserId());
        assertThat(anonymous().getItem(GetItemRequest.newBuilder().setId(created.getId()).build())).isEqualTo(created);
        ListItemsResponse page = anonymous().listItems(ListItemsRequest.newBuilder().setPageSize(100).build());
        assertThat(page.getItemsList()).contains(created);
    }

    @Test
    void badInputIsRefusedWithAClearStatus() {
        assertCode(() -> anonymous().createItem(CreateItemRequest.newBuilder().setText("x").build()),
                   Status.Code.UNAUTHENTICATED);
        LoginResponse login = login("+4915100${port}02");
        for (String bad : new String[] {"", "   ", "x".repeat(2_001), "a\u0000b"}) {
            assertCode(() -> as(login).createItem(CreateItemRequest.newBuilder().setText(bad).build()),
                       Status.Code.INVALID_ARGUMENT);
        }
        assertCode(() -> anonymous().getItem(GetItemRequest.newBuilder().setId("no-such-item").build()),
                   Status.Code.NOT_FOUND);
        assertCode(() -> anonymous().getItem(GetItemRequest.newBuilder().setId("../x").build()),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> anonymous().listItems(ListItemsRequest.newBuilder().setPageSize(101).build()),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> anonymous().listItems(ListItemsRequest.newBuilder().setPageToken("forged").build()),
                   Status.Code.INVALID_ARGUMENT);
    }

    private static LoginResponse login(String phone) {
        UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(userChannel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        users.register(RegisterRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
        return users.login(LoginRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
    }

    private static ${serviceClass}ServiceGrpc.${serviceClass}ServiceBlockingStub anonymous() {
        return ${serviceClass}ServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static ${serviceClass}ServiceGrpc.${serviceClass}ServiceBlockingStub as(LoginResponse login) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + login.getToken());
        return anonymous().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(code));
    }
}
