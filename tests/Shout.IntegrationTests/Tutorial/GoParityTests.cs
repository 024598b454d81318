using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Text;

namespace Shout.IntegrationTests.Tutorial;

/// <summary>
/// Shout answers what the tutorial's Go server (server-concurrent) answers, for every Unicode
/// scalar value, except the documented differences (docs/protocol.md).
/// </summary>
[Collection(Port8080.Name)]
public sealed class GoParityTests
{
    /// <summary>Chunks of whole characters, each under the Go server's 1024-byte read with its newline.</summary>
    private static List<byte[]> Corpus()
    {
        var chunks = new List<byte[]>();
        var current = new List<byte>();
        Span<byte> encoded = stackalloc byte[4];
        for (var cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (!Rune.IsValid(cp) || cp == '\n')
            {
                continue;
            }

            var n = new Rune(cp).EncodeToUtf8(encoded);
            if (current.Count + n > 1000)
            {
                chunks.Add([.. current]);
                current.Clear();
            }

            current.AddRange(encoded[..n]);
        }

        chunks.Add([.. current]);
        return chunks;
    }

    private static async Task<List<byte[]>> AskLineByLineAsync(Socket socket, List<byte[]> chunks)
    {
        var answers = new List<byte[]>(chunks.Count);
        var buffer = new byte[8192];
        var pending = new List<byte>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        foreach (var chunk in chunks)
        {
            await socket.SendAsync((byte[])[.. chunk, (byte)'\n'], SocketFlags.None, deadline.Token);
            int newline;
            while ((newline = pending.IndexOf((byte)'\n')) < 0)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                Assert.True(read > 0, "server closed mid-corpus");
                pending.AddRange(buffer.AsSpan(0, read));
            }

            answers.Add([.. pending.GetRange(0, newline)]);
            pending.RemoveRange(0, newline + 1);
        }

        return answers;
    }

    [Fact]
    public async Task Every_code_point_matches_the_go_server_except_documented_newer_letters()
    {
        var chunks = Corpus();
        List<byte[]> goAnswers;
        var goServer = await GoPrograms.BuildAsync("server-concurrent");
        await using (var go = await TutorialServer.StartAsync(goServer))
        {
            using var socket = await go.ConnectAsync();
            goAnswers = await AskLineByLineAsync(socket, chunks);
        }

        List<byte[]> shoutAnswers;
        await using (var shout = await TestServer.StartAsync())
        {
            using var socket = await RawClient.ConnectAsync(shout.Endpoint);
            shoutAnswers = await AskLineByLineAsync(socket, chunks);
        }

        var differences = new List<int>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var input = Encoding.UTF8.GetString(chunks[i]).EnumerateRunes().ToArray();
            var go = Encoding.UTF8.GetString(goAnswers[i]).EnumerateRunes().ToArray();
            var shout = Encoding.UTF8.GetString(shoutAnswers[i]).EnumerateRunes().ToArray();
            Assert.Equal(input.Length, go.Length);
            Assert.Equal(input.Length, shout.Length);
            for (var j = 0; j < input.Length; j++)
            {
                if (go[j] == shout[j])
                {
                    continue;
                }

                // The only allowed difference: a letter newer than Go 1.19's tables, which Go leaves
                // unchanged and Shout maps the way .NET's Unicode tables say.
                Assert.True(go[j] == input[j], $"U+{input[j].Value:X4}: Go gave U+{go[j].Value:X4}, Shout U+{shout[j].Value:X4}");
                Assert.Equal(Rune.ToUpperInvariant(input[j]), shout[j]);
                differences.Add(input[j].Value);
            }
        }

        // docs/protocol.md lists these: 67 letters, from U+019B to the Garay block.
        Assert.Equal(67, differences.Count);
        Assert.Contains(0x019B, differences);
        Assert.Contains(0x10D70, differences);
        Assert.DoesNotContain(0x0131, differences);
        Assert.DoesNotContain(0x017F, differences);
    }

    [Fact]
    public async Task Invalid_utf8_is_where_shout_deliberately_differs()
    {
        byte[] input = [(byte)'a', 0xFF, (byte)'b', 0xC3, 0x28, (byte)'\n'];
        var goServer = await GoPrograms.BuildAsync("server-concurrent");
        byte[] goAnswer;
        await using (var go = await TutorialServer.StartAsync(goServer))
        {
            using var socket = await go.ConnectAsync();
            await socket.SendAsync(input);
            goAnswer = await ReadLineAsync(socket);
        }

        // Go replaces each invalid byte with U+FFFD; Shout passes them through.
        Assert.Equal("A\uFFFDB\uFFFD(\n", Encoding.UTF8.GetString(goAnswer));
        Assert.Equal(new byte[] { (byte)'A', 0xFF, (byte)'B', 0xC3, 0x28, (byte)'\n' }, ShoutCase.ToUpper(input));
    }

    private static async Task<byte[]> ReadLineAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var output = new List<byte>();
        var buffer = new byte[1024];
        while (!output.Contains((byte)'\n'))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.True(read > 0, "closed before a whole line");
            output.AddRange(buffer.AsSpan(0, read));
        }

        return [.. output];
    }
}
