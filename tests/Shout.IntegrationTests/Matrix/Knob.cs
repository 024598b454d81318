using System.Reflection;

namespace Shout.IntegrationTests.Matrix;

/// <summary>
/// Sets a server option by name, for options the connection-core work adds (issue 10): the suite
/// compiles before they exist, and a test that needs a missing one fails saying which. Once the
/// option exists, replace the call with the plain property assignment.
/// </summary>
internal static class Knob
{
    public static void Set(object options, string property, object value)
    {
        var info = options.GetType().GetProperty(property, BindingFlags.Public | BindingFlags.Instance);
        if (info is null || !info.CanWrite)
        {
            throw new Xunit.Sdk.XunitException($"{options.GetType().Name}.{property} does not exist yet (needed by this test; see docs/reliability.md)");
        }

        info.SetValue(options, value);
    }
}
