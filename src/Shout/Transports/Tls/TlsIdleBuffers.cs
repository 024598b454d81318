using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Shout.Transports.Tls;

/// <summary>
/// Lets an idle TLS connection give its OpenSSL record buffers back. OpenSSL keeps a read and a
/// write buffer of about 17 KiB each per connection for its whole life (34 of the 44 KiB an idle
/// TLS connection cost here); with <c>SSL_MODE_RELEASE_BUFFERS</c> it frees each one as soon as it
/// is empty and takes a new one for the next record, so a connection waiting for its next message
/// holds none. .NET's <see cref="SslStream"/> on Linux does not set the mode and does not expose its
/// <c>SSL*</c>, so this reads it from the stream's security context by reflection, once per
/// connection, right after the handshake and before anything is read or written through it (an
/// <c>SSL*</c> is not thread-safe). Where the runtime or the OpenSSL library differs (another
/// platform, another runtime version) nothing is changed: TLS works exactly as before, with the
/// buffers held.
/// </summary>
internal static unsafe class TlsIdleBuffers
{
    // OpenSSL's SSL_set_mode(ssl, mode) is the macro SSL_ctrl(ssl, SSL_CTRL_MODE, mode, NULL).
    private const int SslCtrlMode = 33;
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly delegate* unmanaged<nint, int, long, nint, long> SslCtrl = FindSslCtrl();
    private static readonly FieldInfo? SecurityContext =
        typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Whether this process can release the buffers (Linux, OpenSSL found, the runtime's layout as expected).</summary>
    public static bool Supported => SslCtrl != null && SecurityContext is not null;

    public static ListenOptions UseTlsIdleBuffers(this ListenOptions listen)
    {
        if (Supported)
        {
            listen.Use(next => connection =>
            {
                if (connection.Features.Get<ISslStreamFeature>()?.SslStream is { } ssl)
                {
                    Release(ssl);
                }

                return next(connection);
            });
        }

        return listen;
    }

    /// <summary>Sets <c>SSL_MODE_RELEASE_BUFFERS</c> on the stream's connection; false if it could not.</summary>
    public static bool Release(SslStream ssl)
    {
        if (SslCtrl == null || SslHandle(SecurityContext?.GetValue(ssl)) is not { IsInvalid: false, IsClosed: false } handle)
        {
            return false;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var mode = SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0);
            return (mode & SslModeReleaseBuffers) != 0;
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile (the peer went away right after its handshake): nothing to release.
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // The runtime's SafeSslHandle, whose handle is the SSL*: the context itself (.NET 10) or its
    // SslContext (earlier runtimes). Only that type is trusted to hold an SSL*.
    private static SafeHandle? SslHandle(object? context)
    {
        if (context is SafeHandle { } direct && direct.GetType().Name == "SafeSslHandle")
        {
            return direct;
        }

        return context?.GetType().GetProperty("SslContext", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(context)
            is SafeHandle { } inner && inner.GetType().Name == "SafeSslHandle" ? inner : null;
    }

    // The libssl the runtime already loaded (dlopen of a loaded name returns that library).
    private static delegate* unmanaged<nint, int, long, nint, long> FindSslCtrl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        foreach (var name in (string[])["libssl.so.3", "libssl.so.1.1", "libssl.so"])
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out var ctrl))
            {
                return (delegate* unmanaged<nint, int, long, nint, long>)ctrl;
            }
        }

        return null;
    }
}
