using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

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
        await using var mallory = await MatrixRoomMember.JoinAsync(transport, server, "mallory");
        await using var victim = await MatrixRoomMember.JoinAsync(transport, server, "victim");

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
        await using var mallory = await MatrixRoomMember.JoinAsync(transport, server, "mallory");
        await using var victim = await MatrixRoomMember.JoinAsync(transport, server, "victim");

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
}
