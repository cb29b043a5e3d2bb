import javax.security.sasl.*;
import javax.security.auth.callback.*;
import java.util.*;
import java.nio.charset.StandardCharsets;

// One DIGEST-MD5 exchange between Java's own client and server, with ZooKeeper's quorum names, printed token
// by token: a known vector for zoopark's quorum SASL (tests/test_quorum_sasl.py).
public class QuorumDigestVector {
    public static void main(String[] a) throws Exception {
        final String user = a[0], pw = a[1];
        CallbackHandler h = cbs -> {
            for (Callback cb : cbs) {
                if (cb instanceof NameCallback) ((NameCallback) cb).setName(user);
                else if (cb instanceof PasswordCallback) ((PasswordCallback) cb).setPassword(pw.toCharArray());
                else if (cb instanceof RealmCallback) ((RealmCallback) cb).setText(((RealmCallback) cb).getDefaultText());
                else if (cb instanceof AuthorizeCallback) {
                    AuthorizeCallback ac = (AuthorizeCallback) cb;
                    ac.setAuthorized(ac.getAuthenticationID().equals(ac.getAuthorizationID()));
                }
            }
        };
        SaslServer s = Sasl.createSaslServer("DIGEST-MD5", "zookeeper-quorum", "zk-quorum-sasl-md5", null, h);
        SaslClient c = Sasl.createSaslClient(new String[]{"DIGEST-MD5"}, user, "zookeeper-quorum", "zk-quorum-sasl-md5", null, h);
        byte[] challenge = s.evaluateResponse(new byte[0]);
        System.out.println(new String(challenge, StandardCharsets.UTF_8));
        byte[] response = c.evaluateChallenge(challenge);
        System.out.println(new String(response, StandardCharsets.UTF_8));
        byte[] rspauth = s.evaluateResponse(response);
        System.out.println(new String(rspauth, StandardCharsets.UTF_8));
        System.out.println(c.evaluateChallenge(rspauth) == null && c.isComplete() && s.isComplete());
    }
}
