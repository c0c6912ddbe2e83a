package io.switchboard.gateway;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceOptions;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.FieldMaskProto;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.grpc.protobuf.ProtoUtils;
import io.switchboard.api.gateway.v1.RouteProto;

/**
 * Proto types and annotated gRPC services built at run time, for shapes the real protos do not have (64-bit and
 * unsigned ints, enums, repeated and nested fields, conflicting or unsupported http rules).
 */
public final class DynamicProtos {
    private static int files;

    private DynamicProtos() {
    }

    /**
     * A proto3 message {@code test.Sample} with one field of each shape the transcoder distinguishes.
     *
     * @return its descriptor
     */
    public static Descriptors.Descriptor sample() {
        DescriptorProto sample = DescriptorProto.newBuilder()
                .setName("Sample")
                .addField(field("name", 1, FieldDescriptorProto.Type.TYPE_STRING))
                .addField(field("count", 2, FieldDescriptorProto.Type.TYPE_INT32))
                .addField(field("big", 3, FieldDescriptorProto.Type.TYPE_INT64))
                .addField(field("ubig", 4, FieldDescriptorProto.Type.TYPE_UINT64))
                .addField(field("usmall", 5, FieldDescriptorProto.Type.TYPE_UINT32))
                .addField(field("flag", 6, FieldDescriptorProto.Type.TYPE_BOOL))
                .addField(field("kind", 7, FieldDescriptorProto.Type.TYPE_ENUM).setTypeName(".test.Kind"))
                .addField(field("tags", 8, FieldDescriptorProto.Type.TYPE_STRING)
                                  .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED))
                .addField(field("ids", 9, FieldDescriptorProto.Type.TYPE_INT64)
                                  .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED))
                .addField(field("ratio", 10, FieldDescriptorProto.Type.TYPE_DOUBLE))
                .addField(field("child", 11, FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".test.Sample"))
                .addField(field("page_token", 12, FieldDescriptorProto.Type.TYPE_STRING))
                .addField(field("update_mask", 13, FieldDescriptorProto.Type.TYPE_MESSAGE)
                                  .setTypeName(".google.protobuf.FieldMask"))
                .addField(field("small_ratio", 14, FieldDescriptorProto.Type.TYPE_FLOAT))
                .addField(field("blob", 15, FieldDescriptorProto.Type.TYPE_BYTES))
                .build();
        EnumDescriptorProto kind = EnumDescriptorProto.newBuilder()
                .setName("Kind")
                .addValue(EnumValueDescriptorProto.newBuilder().setName("KIND_UNSPECIFIED").setNumber(0))
                .addValue(EnumValueDescriptorProto.newBuilder().setName("FIRST").setNumber(1))
                .addValue(EnumValueDescriptorProto.newBuilder().setName("SECOND").setNumber(2))
                .build();
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("test/sample.proto")
                .setPackage("test")
                .setSyntax("proto3")
                .addDependency(FieldMaskProto.getDescriptor().getName())
                .addMessageType(sample)
                .addEnumType(kind)
                .build();
        return build(file, FieldMaskProto.getDescriptor()).findMessageTypeByName("Sample");
    }

    /**
     * A gRPC service {@code test.Demo} whose methods all take and return {@link #sample()}.
     *
     * @param backend the service's backend option; empty for none
     * @param rules   one google.api.http rule per method, named M0, M1, ...
     * @return the service descriptor, as generated code would give it
     */
    public static ServiceDescriptor service(String backend, HttpRule... rules) {
        MethodDescriptorProto[] methods = new MethodDescriptorProto[rules.length];
        for (int i = 0; i < rules.length; i++) {
            methods[i] = method(i, rules[i]).build();
        }
        return service(backend, methods);
    }

    /**
     * A method {@code Mi} of {@link #service(String, MethodDescriptorProto...)}, taking and returning {@link #sample()},
     * to be given more options or made streaming.
     *
     * @param index its number
     * @param rule  its google.api.http rule
     * @return the method, to build
     */
    public static MethodDescriptorProto.Builder method(int index, HttpRule rule) {
        return MethodDescriptorProto.newBuilder()
                .setName("M" + index)
                .setInputType(".test.Sample")
                .setOutputType(".test.Sample")
                .setOptions(MethodOptions.newBuilder().setExtension(AnnotationsProto.http, rule));
    }

    /**
     * A gRPC service {@code test.Demo} of the given methods (see {@link #method(int, HttpRule)}).
     *
     * @param backend the service's backend option; empty for none
     * @param methods its methods
     * @return the service descriptor, as generated code would give it
     */
    public static ServiceDescriptor service(String backend, MethodDescriptorProto... methods) {
        Descriptors.Descriptor sample = sample();
        ServiceDescriptorProto.Builder service = ServiceDescriptorProto.newBuilder().setName("Demo");
        if (!backend.isEmpty()) {
            service.setOptions(ServiceOptions.newBuilder().setExtension(RouteProto.backend, backend));
        }
        for (MethodDescriptorProto method : methods) {
            service.addMethod(method);
        }
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("test/demo" + (++files) + ".proto")
                .setPackage("test")
                .setSyntax("proto3")
                .addDependency(sample.getFile().getName())
                .addDependency(AnnotationsProto.getDescriptor().getName())
                .addDependency(RouteProto.getDescriptor().getName())
                .addService(service)
                .build();
        Descriptors.FileDescriptor built = build(file, sample.getFile(), AnnotationsProto.getDescriptor(), RouteProto.getDescriptor());
        Descriptors.ServiceDescriptor proto = built.findServiceByName("Demo");
        DynamicMessage prototype = DynamicMessage.getDefaultInstance(sample);
        ServiceDescriptor.Builder grpc = ServiceDescriptor.newBuilder("test.Demo")
                .setSchemaDescriptor(new ProtoServiceDescriptorSupplier() {
                    @Override
                    public Descriptors.FileDescriptor getFileDescriptor() {
                        return built;
                    }

                    @Override
                    public Descriptors.ServiceDescriptor getServiceDescriptor() {
                        return proto;
                    }
                });
        for (Descriptors.MethodDescriptor method : proto.getMethods()) {
            MethodDescriptor<DynamicMessage, DynamicMessage> descriptor =
                    MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
                            .setType(MethodDescriptor.MethodType.UNARY)
                            .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Demo", method.getName()))
                            .setRequestMarshaller(ProtoUtils.marshaller(prototype))
                            .setResponseMarshaller(ProtoUtils.marshaller(prototype))
                            .build();
            grpc.addMethod(descriptor);
        }
        return grpc.build();
    }

    /**
     * A GET rule.
     *
     * @param template path template
     * @return the rule
     */
    public static HttpRule get(String template) {
        return HttpRule.newBuilder().setGet(template).build();
    }

    private static FieldDescriptorProto.Builder field(String name, int number, FieldDescriptorProto.Type type) {
        return FieldDescriptorProto.newBuilder()
                .setName(name)
                .setNumber(number)
                .setType(type)
                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
    }

    private static Descriptors.FileDescriptor build(FileDescriptorProto file, Descriptors.FileDescriptor... deps) {
        try {
            return Descriptors.FileDescriptor.buildFrom(file, deps);
        } catch (Descriptors.DescriptorValidationException e) {
            throw new IllegalStateException(e);
        }
    }
}
