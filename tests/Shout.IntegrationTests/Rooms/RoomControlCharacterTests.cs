using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.Server;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Row 29 on every transport: a member's control characters reach the others escaped, never raw;
/// a name with a control is refused with one ERR line; a nickname taken in another case is taken.
/// Sender and receiver are on the column's transport (a UDP member hears a UDP member).
/// </summary>
public sealed class RoomControlCharacterTests
{
    /// <summary>What mallory sends (lowercase, the room uppercases it) and what the others then receive.</summary>
    private static readonly (byte[] Sent, string Received)[] Lines =
    [
        ("real line\rbob: i am bob"u8.ToArray(), "mallory: REAL LINE\\x0DBOB: I AM BOB"),
        ("\u001b[2J\u001b[hcleared"u8.ToArray(), "mallory: \\x1B[2J\\x1B[HCLEARED"),
        ("\u001b]0;pwned\u0007title"u8.ToArray(), "mallory: \\x1B]0;PWNED\\x07TITLE"),
        ("\u001b]52;c;zxzpba==\u0007clip"u8.ToArray(), "mallory: \\x1B]52;C;ZXZPBA==\\x07CLIP"),
        ("\u009b2jc1"u8.ToArray(), "mallory: \\u009B2JC1"),
        ([0x9B, .. "2jraw"u8], "mallory: \\x9B2JRAW"),
        ("\u202eevil \u2066iso\u2069"u8.ToArray(), "mallory: \\u202EEVIL \\u2066ISO\\u2069"),
        ("del\u007f nul\0 bs\u0008 bel\u0007 tab\tkept"u8.ToArray(), "mallory: DEL\\x7F NUL\\x00 BS\\x08 BEL\\x07 TAB\tKEPT"),
    ];

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    [InlineData("udp")]
    public async Task Row29_controls_in_a_member_s_line_reach_the_others_escaped(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var mallory = await MemberAsync(transport, server, "mallory");
        await using var victim = await MemberAsync(transport, server, "victim");

        // The sender's own answer is what line mode answers: its own bytes, uppercased, raw.
        await mallory.SendLineAsync("\u001b[2jmine"u8.ToArray());
        Assert.Equal("\u001b[2JMINE", await mallory.ReadUntilAsync(l => l.EndsWith("MINE", StringComparison.Ordinal)));
        Assert.Equal("mallory: \\x1B[2JMINE", await victim.ReadUntilAsync(l => l.StartsWith("mallory: ", StringComparison.Ordinal)));

        foreach (var (sent, received) in Lines)
        {
            await mallory.SendLineAsync(sent);
            Assert.Equal(received, await victim.ReadUntilAsync(l => l.StartsWith("mallory: ", StringComparison.Ordinal)));
        }

        Assert.All(victim.Seen, l => Assert.DoesNotContain(l, c => char.IsControl(c) && c != '\t'));
    }

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    [InlineData("udp")]
    public async Task Row29_a_name_with_a_control_or_taken_in_another_case_is_refused_with_one_error_line(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var mallory = await MemberAsync(transport, server, "mallory");
        await using var victim = await MemberAsync(transport, server, "victim");

        (string Command, string Error)[] refused =
        [
            ("/nick victim\u001b[2J", "ERR usage: /nick NAME (1-32 letters, digits, _ or -)"),
            ("/nick vic\rtim", "ERR usage: /nick NAME (1-32 letters, digits, _ or -)"),
            ("/nick vic\u009btim", "ERR usage: /nick NAME (1-32 letters, digits, _ or -)"),
            ("/nick vic\u202etim", "ERR usage: /nick NAME (1-32 letters, digits, _ or -)"),
            ("/join lob\u001b]0;x\u0007by", "ERR usage: /join ROOM (1-32 letters, digits, _ or -)"),
            ("/join lob\u0085by", "ERR usage: /join ROOM (1-32 letters, digits, _ or -)"),
            ("/nick VICTIM", "ERR nick VICTIM is taken"),
            ("/nick Victim", "ERR nick Victim is taken"),
        ];
        foreach (var (command, error) in refused)
        {
            await mallory.SendLineAsync(Encoding.UTF8.GetBytes(command));
            Assert.Equal(error, await mallory.ReadUntilAsync(l => l.StartsWith("ERR", StringComparison.Ordinal)));
        }

        // None of it reached the room: the next thing the victim hears from mallory is its next line.
        await mallory.SendLineAsync("after"u8.ToArray());
        Assert.Equal("mallory: AFTER", await victim.ReadUntilAsync(l => l.Contains("mallory", StringComparison.Ordinal)));
        await victim.SendLineAsync("/who"u8.ToArray());
        Assert.Equal("WHO lobby mallory victim", await victim.ReadUntilAsync(l => l.StartsWith("WHO", StringComparison.Ordinal)));
    }

    private static async Task<LineMember> MemberAsync(MatrixTransport transport, TestServer server, string nick)
    {
        var member = new LineMember(await transport.OpenAsync(server), transport.IsDatagram || transport.IsWebSocket);
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

    /// <summary>A matrix client read as lines: a message or datagram is one line, a stream is split at <c>\n</c>.</summary>
    private sealed class LineMember(MatrixClient client, bool messages) : IAsyncDisposable
    {
        private readonly List<byte> _pending = [];
        private readonly Queue<string> _lines = new();

        public List<string> Seen { get; } = [];

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
}
