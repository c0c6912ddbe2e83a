package io.switchboard.post;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Metrics;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.WatchPostsRequest;
import io.switchboard.api.post.v1.WatchPostsResponse;
import io.switchboard.post.posts.Posts;
import io.switchboard.server.grpc.RequestIds;

/**
 * The streams of new posts ({@code WatchPosts}). Every post takes the next number of the database's feed when it is
 * stored ({@link Posts.StoredPost#seq()}), so every instance sees the same feed in the same order, and a cursor (that
 * number) from one instance resumes on another. One poller per instance reads the new posts into a short window that
 * every stream on the instance reads; a stream that falls behind the window (a slow client, or one resuming from an
 * old cursor) reads from the database until it catches up.
 * <p>
 * Each stream has a virtual thread that sends while the client reads: a client that does not read stops the
 * thread in the transport's flow control, and nothing more is read for it. Thread safe.
 */
final class PostFeed implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PostFeed.class.getName());
    private static final Pattern CURSOR = Pattern.compile("[0-9]{1,18}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    /* posts the window keeps, and that one read returns */
    private static final int WINDOW = 128;

    private final Posts posts;
    private final int maxStreams;
    private final Duration pollEvery;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition advanced = lock.newCondition();
    /* the newest posts, oldest first, and the feed position the window is read up to: guarded by lock */
    private final ArrayDeque<Posts.StoredPost> window = new ArrayDeque<>();
    private long readUpTo = -1;
    private boolean closed;
    private Thread poller;
    private final Counter sent;
    private final Counter cancelled;

    /**
     * @param posts      the posts
     * @param maxStreams streams followed at once; beyond, RESOURCE_EXHAUSTED
     * @param pollEvery  how often the database is asked for new posts while a stream is open (this instance's own
     *                   posts are seen at once)
     */
    PostFeed(Posts posts, int maxStreams, Duration pollEvery) {
        if (maxStreams < 1 || pollEvery.isNegative() || pollEvery.isZero()) {
            throw new IllegalArgumentException("watch.max-streams must be at least 1 and watch.poll-every positive, got "
                                               + maxStreams + " and " + pollEvery);
        }
        this.posts = posts;
        this.maxStreams = maxStreams;
        this.pollEvery = pollEvery;
        var registry = Metrics.globalRegistry();
        sent = registry.getOrCreate(Counter.builder("post.watch.sent")
                                            .description("posts sent on WatchPosts streams"));
        cancelled = registry.getOrCreate(Counter.builder("post.watch.cancelled")
                                                 .description("WatchPosts streams their caller cancelled"));
        registry.getOrCreate(Gauge.builder("post.watch.streams", streams, Set::size)
                                     .description("WatchPosts streams open now"));
    }

    /** Called when a post is stored here: streams see it without waiting for the next poll. */
    void created() {
        lock.lock();
        try {
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Follows the feed for one call, on a thread of its own.
     *
     * @param request   the call's request
     * @param responses the call's stream
     */
    void watch(WatchPostsRequest request, ServerCallStreamObserver<WatchPostsResponse> responses) {
        if (!request.getAuthor().isEmpty() && !ID.matcher(request.getAuthor()).matches()) {
            throw Status.INVALID_ARGUMENT.withDescription("author must be a user id").asRuntimeException();
        }
        if (!request.getAfter().isEmpty() && !CURSOR.matcher(request.getAfter()).matches()) {
            throw Status.INVALID_ARGUMENT.withDescription("after must be a cursor from an earlier message")
                    .asRuntimeException();
        }
        long last = posts.lastSequence();
        long start = request.getAfter().isEmpty() ? last : Long.parseLong(request.getAfter());
        if (start > last) {
            throw Status.OUT_OF_RANGE.withDescription("after names a position the feed has not reached")
                    .asRuntimeException();
        }
        Stream stream = new Stream(request.getAuthor(), start, responses, RequestIds.current());
        lock.lock();
        try {
            if (closed) {
                throw Status.UNAVAILABLE.withDescription("post is stopping").asRuntimeException();
            }
            if (streams.size() >= maxStreams) {
                throw Status.RESOURCE_EXHAUSTED.withDescription("post follows as many streams as it may")
                        .asRuntimeException();
            }
            streams.add(stream);
            if (poller == null) {
                poller = Thread.ofVirtual().name("post-feed-poller").start(this::poll);
            }
        } finally {
            lock.unlock();
        }
        responses.setOnCancelHandler(stream::cancel);
        stream.thread = Thread.ofVirtual().name("post-watch").start(stream::run);
    }

    /* Reads new posts into the window while streams are open; stops when the last one ends. */
    private void poll() {
        while (true) {
            lock.lock();
            long from = readUpTo;
            try {
                if (closed || streams.isEmpty()) {
                    poller = null;
                    window.clear();
                    readUpTo = -1;
                    return;
                }
            } finally {
                lock.unlock();
            }
            List<Posts.StoredPost> fresh;
            try {
                fresh = from < 0 ? List.of() : posts.after(from, WINDOW);
                if (from < 0) {
                    from = posts.lastSequence();
                }
            } catch (StatusRuntimeException e) {
                // the database is away: streams wait, and so does the next try
                fresh = null;
            }
            lock.lock();
            try {
                if (fresh != null) {
                    for (Posts.StoredPost post : fresh) {
                        window.addLast(post);
                        if (window.size() > WINDOW) {
                            window.removeFirst();
                        }
                        from = post.seq();
                    }
                    if (from != readUpTo) {
                        readUpTo = from;
                        advanced.signalAll();
                    }
                }
                if (fresh == null || fresh.size() < WINDOW) {
                    advanced.await(pollEvery.toNanos(), TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /*
     * The posts after a position, at most a window's worth: from the window when it reaches back that far, else from
     * the database; empty when there are none yet, after waiting a while for one.
     */
    private List<Posts.StoredPost> after(long cursor) throws InterruptedException {
        lock.lock();
        try {
            if (readUpTo < 0 || cursor >= readUpTo) {
                // nothing new, or the poller's first read is not done: until it reads more
                advanced.await(pollEvery.toNanos() * 5, TimeUnit.NANOSECONDS);
            }
            Posts.StoredPost oldest = window.peekFirst();
            if (readUpTo >= 0 && cursor >= readUpTo) {
                return List.of();
            }
            if (oldest != null && cursor >= oldest.seq() - 1) {
                List<Posts.StoredPost> next = new ArrayList<>();
                for (Posts.StoredPost post : window) {
                    if (post.seq() > cursor) {
                        next.add(post);
                    }
                }
                return next;
            }
        } finally {
            lock.unlock();
        }
        // behind the window, or before the poller's first read: from the database
        return posts.after(cursor, WINDOW);
    }

    /** Ends every stream (UNAVAILABLE: its client reconnects, to another instance, from its last cursor). */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
        streams.forEach(Stream::stop);
    }

    /* One call's stream. */
    private final class Stream {
        private final String author;
        private final ServerCallStreamObserver<WatchPostsResponse> responses;
        private final String requestId;
        private long cursor;
        private volatile boolean cancelledByCaller;
        private volatile boolean stopping;
        private volatile Thread thread;

        Stream(String author, long cursor, ServerCallStreamObserver<WatchPostsResponse> responses, String requestId) {
            this.author = author;
            this.cursor = cursor;
            this.responses = responses;
            this.requestId = requestId;
        }

        void run() {
            try {
                while (!cancelledByCaller && !stopping) {
                    for (Posts.StoredPost post : after(cursor)) {
                        if (cancelledByCaller || stopping) {
                            break;
                        }
                        if (author.isEmpty() || author.equals(post.author())) {
                            // blocks while the caller's flow-control window is full
                            responses.onNext(WatchPostsResponse.newBuilder()
                                                     .setPost(toProto(post))
                                                     .setCursor(Long.toString(post.seq()))
                                                     .build());
                            sent.increment();
                        }
                        cursor = post.seq();
                    }
                }
                if (!cancelledByCaller) {
                    responses.onError(Status.UNAVAILABLE.withDescription("post is stopping: reconnect")
                                              .asRuntimeException());
                }
            } catch (InterruptedException e) {
                // cancelled or stopping while waiting
                end();
            } catch (StatusRuntimeException e) {
                // the database went away: the client reconnects from its last cursor
                end(e.getStatus());
            } catch (RuntimeException e) {
                // the transport refused a message: the call is gone
                if (!cancelledByCaller) {
                    LOG.log(Level.INFO, "[" + requestId + "] a post stream ended: " + e);
                }
            } finally {
                streams.remove(this);
            }
        }

        private void end() {
            end(Status.UNAVAILABLE.withDescription("post is stopping: reconnect"));
        }

        private void end(Status status) {
            if (!cancelledByCaller) {
                try {
                    responses.onError(status.asRuntimeException());
                } catch (RuntimeException gone) {
                    // the call ended meanwhile
                }
            }
        }

        void cancel() {
            cancelledByCaller = true;
            cancelled.increment();
            interrupt();
        }

        void stop() {
            stopping = true;
            interrupt();
        }

        private void interrupt() {
            Thread running = thread;
            if (running != null) {
                running.interrupt();
            }
        }
    }

    static Post toProto(Posts.StoredPost post) {
        return Post.newBuilder()
                .setId(post.id())
                .setAuthor(post.author())
                .setTitle(post.title())
                .setContent(post.content())
                .setCreatedAt(Instant.ofEpochMilli(post.createdAt()).toString())
                .build();
    }
}
