package ${package};

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.regex.Pattern;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import ${package}.api.v1.CreateItemRequest;
import ${package}.api.v1.GetItemRequest;
import ${package}.api.v1.Item;
import ${package}.api.v1.ListItemsRequest;
import ${package}.api.v1.ListItemsResponse;
import ${package}.api.v1.${serviceClass}ServiceGrpc;
import io.switchboard.runtime.db.KeysetTokens;
import io.switchboard.server.grpc.RequestIds;
import io.switchboard.server.grpc.Unary;
import io.switchboard.tokens.Caller;

/**
 * The ${service} API. Every answer goes through {@link Unary#answer}: a thrown gRPC status reaches the client (and
 * the gateway maps it to HTTP), never a stack trace. Thread safe.
 */
final class ${serviceClass}Service extends ${serviceClass}ServiceGrpc.${serviceClass}ServiceImplBase {
    private static final System.Logger LOG = System.getLogger(${serviceClass}Service.class.getName());
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final int MAX_TEXT = 2_000;
    private static final int DEFAULT_PAGE = 20;
    private static final int MAX_PAGE = 100;

    private final Items items;

    ${serviceClass}Service(Items items) {
        this.items = items;
    }

    @Override
    public void createItem(CreateItemRequest request, StreamObserver<Item> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            String text = request.getText();
            if (text.isBlank() || text.codePointCount(0, text.length()) > MAX_TEXT
                || text.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t')) {
                throw invalid("text must be 1.." + MAX_TEXT + " characters, not blank, no control characters");
            }
            Items.StoredItem item = items.create(caller.userId(), text);
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] item " + item.id() + " created by " + caller.userId());
            return toProto(item);
        });
    }

    @Override
    public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
        Unary.answer(responses, () -> {
            if (!ID.matcher(request.getId()).matches()) {
                throw invalid("id must be an item id");
            }
            return toProto(items.get(request.getId()).orElseThrow(
                    () -> Status.NOT_FOUND.withDescription("no item with that id").asRuntimeException()));
        });
    }

    @Override
    public void listItems(ListItemsRequest request, StreamObserver<ListItemsResponse> responses) {
        Unary.answer(responses, () -> {
            int size = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
            if (size < 1 || size > MAX_PAGE) {
                throw invalid("pageSize must be 1.." + MAX_PAGE + ", got " + request.getPageSize());
            }
            KeysetTokens.Page<Items.StoredItem> page = items.list(size, request.getPageToken());
            ListItemsResponse.Builder response = ListItemsResponse.newBuilder().setNextPageToken(page.nextPageToken());
            page.rows().forEach(item -> response.addItems(toProto(item)));
            return response.build();
        });
    }

    private static Item toProto(Items.StoredItem item) {
        return Item.newBuilder()
                .setId(item.id())
                .setOwner(item.owner())
                .setText(item.text())
                .setCreatedAt(Instant.ofEpochMilli(item.createdAt()).toString())
                .build();
    }

    private static RuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
