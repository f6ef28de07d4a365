package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrNoReflection is returned when a server offers neither reflection
// service and the plan names no protoset.
var ErrNoReflection = errors.New("the server has no reflection service (grpc.reflection.v1 or v1alpha); compile its protos into a protoset (protoc --descriptor_set_out=FILE --include_imports) and name it in workload.protoset")

// descriptors are the services a target offers, with their message types.
type descriptors struct {
	files *protoregistry.Files
	// offered lists every service by full name, sorted, for messages.
	offered []string
	// from says where the descriptors came from, for messages.
	from string
}

// service finds a service by full name.
func (d *descriptors) service(name string) protoreflect.ServiceDescriptor {
	desc, err := d.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	sd, _ := desc.(protoreflect.ServiceDescriptor)
	return sd
}

// readProtoset loads a FileDescriptorSet file, as protoc writes with
// --descriptor_set_out --include_imports.
func readProtoset(path string) (*descriptors, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("protoset: %w", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("protoset %q is not a FileDescriptorSet: %w", path, err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("protoset %q: %w (was it written with --include_imports?)", path, err)
	}
	d := &descriptors{files: files, from: fmt.Sprintf("protoset %q", path)}
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			d.offered = append(d.offered, string(fd.Services().Get(i).FullName()))
		}
		return true
	})
	sort.Strings(d.offered)
	return d, nil
}

// reflectionMethods are the reflection services, newest first. Their
// messages are the same on the wire, so v1's types serve both.
var reflectionMethods = []string{
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}

// reflectDescriptors asks the server's reflection service for the files defining the
// wanted services and everything they import.
func reflectDescriptors(ctx context.Context, cc *grpc.ClientConn, wanted []string) (*descriptors, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rs *reflectionStream
	var listed *rpb.ServerReflectionResponse
	for _, method := range reflectionMethods {
		stream, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
		if err != nil {
			return nil, err
		}
		rs = &reflectionStream{stream: stream}
		listed, err = rs.ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
		if status.Code(err) == codes.Unimplemented {
			rs = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if rs == nil {
		return nil, ErrNoReflection
	}
	defer rs.stream.CloseSend()
	d := &descriptors{from: "the server"}
	if e := listed.GetErrorResponse(); e != nil {
		return nil, fmt.Errorf("reflection: listing services: %s", e.GetErrorMessage())
	}
	offered := map[string]bool{}
	for _, s := range listed.GetListServicesResponse().GetService() {
		d.offered = append(d.offered, s.GetName())
		offered[s.GetName()] = true
	}
	sort.Strings(d.offered)

	files := map[string]*descriptorpb.FileDescriptorProto{}
	asked := map[string]bool{}
	for _, name := range wanted {
		if !offered[name] || asked[name] {
			continue // unknown services are reported by the caller, with what is offered
		}
		asked[name] = true
		resp, err := rs.ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}})
		if err != nil {
			return nil, err
		}
		if err := addFiles(files, resp); err != nil {
			return nil, fmt.Errorf("reflection: service %q: %w", name, err)
		}
	}
	// A server sends each file once per stream, and some send no imports at
	// all: ask for every import still missing, by name.
	for {
		var missing []string
		for _, f := range files {
			for _, dep := range f.GetDependency() {
				if files[dep] == nil {
					missing = append(missing, dep)
				}
			}
		}
		if len(missing) == 0 {
			break
		}
		for _, dep := range missing {
			if files[dep] != nil {
				continue
			}
			resp, err := rs.ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep}})
			if err != nil {
				return nil, err
			}
			if resp.GetErrorResponse() != nil {
				// Well-known imports (google/protobuf/*.proto) are compiled
				// into tailgate; a server need not serve them.
				fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
				if err != nil {
					return nil, fmt.Errorf("reflection: import %q: %s", dep, resp.GetErrorResponse().GetErrorMessage())
				}
				files[dep] = protodesc.ToFileDescriptorProto(fd)
				continue
			}
			if err := addFiles(files, resp); err != nil {
				return nil, fmt.Errorf("reflection: import %q: %w", dep, err)
			}
			if files[dep] == nil {
				return nil, fmt.Errorf("reflection: asked for import %q, the server sent other files", dep)
			}
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, f := range files {
		set.File = append(set.File, f)
	}
	var err error
	if d.files, err = protodesc.NewFiles(set); err != nil {
		return nil, fmt.Errorf("reflection: the server's descriptors do not build: %w", err)
	}
	return d, nil
}

// addFiles decodes the file descriptors of a reflection answer.
func addFiles(files map[string]*descriptorpb.FileDescriptorProto, resp *rpb.ServerReflectionResponse) error {
	if e := resp.GetErrorResponse(); e != nil {
		return errors.New(e.GetErrorMessage())
	}
	fdr := resp.GetFileDescriptorResponse()
	if fdr == nil {
		return errors.New("the server answered without file descriptors")
	}
	for _, raw := range fdr.GetFileDescriptorProto() {
		f := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(raw, f); err != nil {
			return fmt.Errorf("a file descriptor does not decode: %w", err)
		}
		files[f.GetName()] = f
	}
	return nil
}

// reflectionStream is one ServerReflectionInfo stream, used as a sequence
// of questions and answers.
type reflectionStream struct{ stream grpc.ClientStream }

func (r *reflectionStream) ask(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
	if err := r.stream.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// On io.EOF from SendMsg the stream has ended; RecvMsg says why.
	resp := new(rpb.ServerReflectionResponse)
	if err := r.stream.RecvMsg(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// methodNames lists a service's methods, for messages.
func methodNames(sd protoreflect.ServiceDescriptor) string {
	names := make([]string, 0, sd.Methods().Len())
	for i := 0; i < sd.Methods().Len(); i++ {
		names = append(names, string(sd.Methods().Get(i).Name()))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
