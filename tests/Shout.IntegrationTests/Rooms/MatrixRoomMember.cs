using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Rooms;

/// <summary>A room member on any matrix transport (a UDP one joins by echoing its token), read as lines: a message or datagram is one line, a stream is split at <c>\n</c>.</summary>
internal sealed class MatrixRoomMember(MatrixClient client, bool messages) : IAsyncDisposable
{
    private readonly List<byte> _pending = [];
    private readonly Queue<string> _lines = new();

    public List<string> Seen { get; } = [];

    public static async Task<MatrixRoomMember> JoinAsync(MatrixTransport transport, TestServer server, string nick)
    {
        var member = new MatrixRoomMember(await transport.OpenAsync(server), transport.IsDatagram || transport.IsWebSocket);
        if (transport.IsDatagram)
        {
            // A UDP source is a member only once it has echoed the token sent to its address (row 28).
            await member.SendLineAsync("/join lobby"u8.ToArray());
            var challenge = await member.ReadUntilAsync(l => l.StartsWith("/join lobby ", StringComparison.Ordinal));
            await member.SendLineAsync(Encoding.UTF8.GetBytes(challenge));
            await member.ReadUntilAsync(l => l == "OK room lobby");
        }

        await member.SendLineAsync(Encoding.UTF8.GetBytes("/nick " + nick));
        await member.ReadUntilAsync(l => l == "OK nick " + nick);
        return member;
    }

    public Task SendLineAsync(byte[] line) => client.SendAsync(messages ? line : [.. line, (byte)'\n']);

    public async Task<string> ReadUntilAsync(Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(MatrixClient.Deadline);
        while (true)
        {
            while (_lines.TryDequeue(out var line))
            {
                Seen.Add(line);
                if (match(line))
                {
                    return line;
                }
            }

            var some = await client.ReceiveSomeAsync(timeout.Token);
            Assert.True(some is { Length: > 0 } || (messages && some is not null), "the server ended the member; seen:\n" + string.Join('\n', Seen));
            _pending.AddRange(some!);
            if (messages)
            {
                _pending.Add((byte)'\n');
            }

            int newline;
            while ((newline = _pending.IndexOf((byte)'\n')) >= 0)
            {
                _lines.Enqueue(Encoding.UTF8.GetString([.. _pending.Take(newline)]));
                _pending.RemoveRange(0, newline + 1);
            }
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
