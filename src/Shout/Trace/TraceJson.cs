using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shout.Trace;

/// <summary>
/// The trace as JSON, one object per record, field names stable (documented in docs/trace.md):
/// <c>type</c> is <c>packet</c>, <c>datagram</c> or <c>summary</c>; the other fields are the
/// record's properties in camelCase, nulls included so that every object of a type has every field.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TraceRecord))]
internal sealed partial class TraceJsonContext : JsonSerializerContext;

/// <summary>Writes and reads trace records as JSON.</summary>
internal static class TraceJson
{
    /// <summary>One record as one line of JSON.</summary>
    public static string Serialize(TraceRecord record) => JsonSerializer.Serialize(record, TraceJsonContext.Default.TraceRecord);

    /// <summary>Reads a line written by <see cref="Serialize"/>.</summary>
    public static TraceRecord? Deserialize(string json) => JsonSerializer.Deserialize(json, TraceJsonContext.Default.TraceRecord);
}
