using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Shout.Tests.Transports.Streams;

/// <summary>A connection over two in-memory pipes: the test writes the client's bytes into <see cref="ClientInput"/> and reads the server's from <see cref="ClientOutput"/>.</summary>
internal sealed class MemoryConnection : ConnectionContext
{
    private static int _made;

    public MemoryConnection() => Transport = new DuplexPipe(ClientInput.Reader, ClientOutput.Writer);

    public Pipe ClientInput { get; } = new(new PipeOptions(useSynchronizationContext: false));

    public Pipe ClientOutput { get; } = new(new PipeOptions(useSynchronizationContext: false));

    public override string ConnectionId { get; set; } = "memory" + Interlocked.Increment(ref _made);

    public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features { get; } = new Microsoft.AspNetCore.Http.Features.FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
