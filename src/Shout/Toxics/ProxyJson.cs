using System.Globalization;
using System.Text.Json;

namespace Shout.Toxics;

/// <summary>
/// toxiproxy's JSON shapes, read and written. Reading checks every field's type and value and
/// says what is wrong in one line; unknown proxy fields are ignored (as toxiproxy does), unknown
/// toxic attributes are refused (a misspelt attribute would otherwise silently do nothing).
/// </summary>
internal static class ProxyJson
{
    public static JsonElement Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw ToxiproxyError.BadBody(OneLine(e.Message));
        }
    }

    /// <summary>A proxy from a create request or a config file entry.</summary>
    public static ProxyInput ReadProxy(JsonElement json)
    {
        RequireObject(json, "a proxy");
        var name = String(json, "name", null);
        if (string.IsNullOrEmpty(name))
        {
            throw new ToxiproxyError(400, "missing required field: name");
        }

        var upstream = String(json, "upstream", null);
        if (string.IsNullOrEmpty(upstream))
        {
            throw new ToxiproxyError(400, "missing required field: upstream");
        }

        var listen = String(json, "listen", null);
        return new ProxyInput(name, Address("listen", string.IsNullOrEmpty(listen) ? "127.0.0.1:0" : listen), Address("upstream", upstream),
            Bool(json, "enabled", true));
    }

    /// <summary>The list of a populate request or a config file.</summary>
    public static ProxyInput[] ReadProxyList(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Array)
        {
            throw ToxiproxyError.BadBody("expected a JSON list of proxies");
        }

        return [.. json.EnumerateArray().Select(ReadProxy)];
    }

    /// <summary>An update: each field given replaces the proxy's, the rest stay.</summary>
    public static (ProxyAddress Listen, ProxyAddress Upstream, bool Enabled) ReadProxyUpdate(JsonElement json, ToxicProxy proxy)
    {
        RequireObject(json, "a proxy");
        var listen = String(json, "listen", null);
        var upstream = String(json, "upstream", null);
        return (string.IsNullOrEmpty(listen) ? proxy.Listen : Address("listen", listen),
            string.IsNullOrEmpty(upstream) ? proxy.Upstream : Address("upstream", upstream),
            Bool(json, "enabled", proxy.Enabled));
    }

    /// <summary>A new toxic: stream downstream and toxicity 1 unless given, name type_stream unless given.</summary>
    public static ToxicSpec ReadToxic(JsonElement json)
    {
        RequireObject(json, "a toxic");
        var type = String(json, "type", null) ?? "";
        var streamText = String(json, "stream", "downstream")!;
        if (!ToxicSpec.TryParseStream(streamText, out var stream))
        {
            throw new ToxiproxyError(400, "stream was invalid, can be either upstream or downstream");
        }

        var name = String(json, "name", null);
        var toxicity = Number(json, "toxicity", 1);
        var attributes = Attributes(json);
        return Checked(string.IsNullOrEmpty(name) ? ToxicSpec.DefaultName(type, stream) : name, type, stream, toxicity, attributes);
    }

    /// <summary>A toxic's update: the attributes given replace the toxic's, toxicity too if given.</summary>
    public static ToxicSpec ReadToxicUpdate(JsonElement json, ToxicSpec toxic)
    {
        RequireObject(json, "a toxic");
        var attributes = new Dictionary<string, long>(toxic.Attributes, StringComparer.Ordinal);
        foreach (var (key, value) in Attributes(json))
        {
            attributes[key] = value;
        }

        return Checked(toxic.Name, toxic.Type, toxic.Stream, Number(json, "toxicity", toxic.Toxicity), attributes);
    }

    public static ToxicSpec Checked(string name, string type, ToxicStream stream, double toxicity, IReadOnlyDictionary<string, long> attributes)
    {
        if (ToxicSpec.Check(type, attributes, toxicity) is { } error)
        {
            throw new ToxiproxyError(400, error);
        }

        return new ToxicSpec(name, type, stream, toxicity, ToxicSpec.WithDefaults(type, attributes));
    }

    public static void WriteProxy(Utf8JsonWriter writer, ToxicProxy proxy)
    {
        writer.WriteStartObject();
        writer.WriteString("name", proxy.Name);
        writer.WriteString("listen", proxy.Listen.ToString());
        writer.WriteString("upstream", proxy.Upstream.ToString());
        writer.WriteBoolean("enabled", proxy.Enabled);
        writer.WritePropertyName("toxics");
        WriteToxics(writer, proxy.Toxics.Current);
        writer.WriteEndObject();
    }

    public static void WriteToxics(Utf8JsonWriter writer, IEnumerable<ToxicSpec> toxics)
    {
        writer.WriteStartArray();
        foreach (var toxic in toxics)
        {
            WriteToxic(writer, toxic);
        }

        writer.WriteEndArray();
    }

    public static void WriteToxic(Utf8JsonWriter writer, ToxicSpec toxic)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("attributes");
        foreach (var (key, value) in toxic.Attributes)
        {
            writer.WriteNumber(key, value);
        }

        writer.WriteEndObject();
        writer.WriteString("name", toxic.Name);
        writer.WriteString("type", toxic.Type);
        writer.WriteString("stream", toxic.StreamName);
        writer.WriteNumber("toxicity", toxic.Toxicity);
        writer.WriteEndObject();
    }

    private static ProxyAddress Address(string field, string text) =>
        ProxyAddress.TryParse(text, out var address, out var error) ? address! : throw new ToxiproxyError(400, $"{field}: {error}");

    private static Dictionary<string, long> Attributes(JsonElement json)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!json.TryGetProperty("attributes", out var attributes) || attributes.ValueKind == JsonValueKind.Null)
        {
            return result;
        }

        if (attributes.ValueKind != JsonValueKind.Object)
        {
            throw ToxiproxyError.BadBody("attributes must be an object");
        }

        foreach (var property in attributes.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var value))
            {
                throw ToxiproxyError.BadBody($"attribute {property.Name} must be a whole number, not {property.Value.GetRawText()}");
            }

            result[property.Name] = value;
        }

        return result;
    }

    private static void RequireObject(JsonElement json, string what)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw ToxiproxyError.BadBody($"expected {what} as a JSON object");
        }
    }

    private static string? String(JsonElement json, string field, string? fallback)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw ToxiproxyError.BadBody($"{field} must be a string");
    }

    private static bool Bool(JsonElement json, string field, bool fallback)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ToxiproxyError.BadBody($"{field} must be true or false"),
        };
    }

    private static double Number(JsonElement json, string field, double fallback)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw ToxiproxyError.BadBody($"{field} must be a number, not {value.GetRawText()}");
    }

    private static string OneLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 200 ? line[..200].ToString(CultureInfo.InvariantCulture) : line;
    }
}
