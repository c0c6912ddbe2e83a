package io.switchboard.gateway.routes;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;

/**
 * One HTTP route and the gRPC method it calls, as declared in proto/.
 *
 * @param httpMethod    HTTP method, upper case
 * @param template      path template text, for metrics and logs
 * @param backend       registry name of the service to call
 * @param method        the gRPC method
 * @param requestType   an empty request, to build requests from
 * @param body          whether the request body is JSON for the whole request message
 * @param auth          whether a valid bearer token is required
 * @param successStatus HTTP status of a successful answer
 * @param idempotent    whether the call may be retried on another instance
 * @param rateLimited   whether the route is rate limited per client address
 * @param deadlineMillis deadline passed to the backend
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
                    long deadlineMillis) {
}
