using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.Toxics;

namespace Shout.Tests.Toxics;

/// <summary>
/// The page's add-a-toxic form offers the types, attributes and defaults the API knows: toxics.js
/// holds its own table (the page cannot ask toxiproxy's API for one), and this keeps it ToxicTypes'.
/// </summary>
public sealed partial class ToxicsPanelTypesTests
{
    [Fact]
    public void The_panels_table_of_types_attributes_and_defaults_is_the_apis()
    {
        var script = Script();
        var match = TypesLine().Match(script);
        Assert.True(match.Success, "toxics.js has no one-line `const toxicTypes = {…};`");
        using var table = JsonDocument.Parse(match.Groups[1].Value);
        Assert.Equal(ToxicTypes.Names.Order(StringComparer.Ordinal), table.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var type in table.RootElement.EnumerateObject())
        {
            Assert.True(ToxicTypes.TryGet(type.Name, out var attributes));
            Assert.Equal(attributes.Select(a => $"{a.Name}={a.Default}"), type.Value.EnumerateObject().Select(a => $"{a.Name}={a.Value.GetInt64()}"));
        }
    }

    [Fact]
    public void The_panel_offers_a_udp_proxy_the_types_it_takes_and_the_others_the_rest()
    {
        var script = Script();
        var datagramOnly = List(script, "datagramOnly");
        var onDatagrams = List(script, "onDatagrams");
        foreach (var type in ToxicTypes.Names)
        {
            Assert.Equal(ToxicTypes.Refuses(type, "udp") is null, onDatagrams.Contains(type));
            Assert.Equal(ToxicTypes.Refuses(type, "stream") is not null, datagramOnly.Contains(type));
        }
    }

    private static string Script()
    {
        using var stream = typeof(ToxicTypes).Assembly.GetManifestResourceStream("wwwroot/toxics.js")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string[] List(string script, string name)
    {
        var match = Regex.Match(script, $@"const {name} = (\[[^\]]*\]);");
        Assert.True(match.Success, $"toxics.js has no `const {name} = [...]`");
        return JsonSerializer.Deserialize<string[]>(match.Groups[1].Value)!;
    }

    [GeneratedRegex(@"const toxicTypes = (\{.*\});")]
    private static partial Regex TypesLine();
}
