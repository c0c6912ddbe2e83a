package io.switchboard.schema;

import java.util.Set;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;

/**
 * One HTTP route and the gRPC method it calls, as a service declares it in its proto files.
 *
 * @param httpMethod    HTTP method, upper case
 * @param template      path template text, for metrics and logs
 * @param backend       registry name of the service to call
 * @param method        the gRPC method, whose messages are {@link com.google.protobuf.DynamicMessage}s
 * @param requestType   an empty request, to build requests from
 * @param body          whether the request has a JSON body (for the whole request message, or for {@code bodyField})
 * @param auth          whether a valid bearer token is required
 * @param successStatus HTTP status of a successful answer
 * @param idempotent    whether the call may be retried on another instance
 * @param rateLimited   whether the route is rate limited per client address
 * @param deadlineMillis deadline passed to the backend
 * @param schemas       the schema ids of the instances that declare the route and are called for it (empty: any
 *                      instance of the backend)
 * @param bodyField     the top-level request field the body fills ({@code body: "field"}); empty for the whole
 *                      message or no body
 * @param responseBody  the top-level response field sent as the answer ({@code response_body}); empty for the whole
 *                      response
 * @param eventIdField  for a server-streaming method: the top-level string field of each message that is its event's
 *                      id; empty for none
 * @param resumeField   for a server-streaming method: the top-level string request field a {@code Last-Event-ID}
 *                      fills; empty for none
 */
public record Route(String httpMethod,
                    String template,
                    String backend,
                    MethodDescriptor<Message, Message> method,
                    Message requestType,
                    boolean body,
                    boolean auth,
                    int successStatus,
                    boolean idempotent,
                    boolean rateLimited,
                    long deadlineMillis,
                    Set<String> schemas,
                    String bodyField,
                    String responseBody,
                    String eventIdField,
                    String resumeField) {
    /**
     * The same route, served by the instances of other schemas.
     *
     * @param servedBy schema ids
     * @return the route
     */
    public Route servedBy(Set<String> servedBy) {
        return new Route(httpMethod, template, backend, method, requestType, body, auth, successStatus, idempotent,
                         rateLimited, deadlineMillis, Set.copyOf(servedBy), bodyField, responseBody, eventIdField,
                         resumeField);
    }

    /**
     * Whether the method streams its answer (server streaming): an HTTP stream of events, not one JSON answer.
     *
     * @return true for a server-streaming method
     */
    public boolean streaming() {
        return method != null && method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING;
    }

    /**
     * The service and gRPC method behind the route, for logs: {@code post (switchboard.post.v1.PostService/GetPost)}.
     *
     * @return a description
     */
    public String describe() {
        return backend + " (" + method.getFullMethodName() + ")";
    }

    /**
     * What two routes must not share: the HTTP method and the path template without its variables' names
     * ({@code GET /post/{}} for {@code GET /post/{id}}).
     *
     * @return the route's shape
     */
    public String shape() {
        return httpMethod + " " + PathTemplate.parse(template).shape();
    }
}
